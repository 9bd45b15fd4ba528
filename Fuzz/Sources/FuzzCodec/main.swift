import CFuzzDriver

#if canImport(Glibc)
    import Glibc
#endif

var argc = CommandLine.argc
var argv = Optional(CommandLine.unsafeArgv)
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzCodec(data, size) })
