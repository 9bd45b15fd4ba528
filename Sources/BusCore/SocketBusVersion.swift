/// socketbus's version, in one place: busd's and busctl's `--version`, the
/// node record in Redis, `socketbus_build_info` and `make dist`'s file names
/// (scripts/dist.sh reads the literal below with sed, so keep it one line).
public enum SocketBusVersion {
    public static let string = "0.1.0"
}
