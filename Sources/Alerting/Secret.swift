/// A password or token. It prints as `<redacted>` in every form Swift
/// offers (interpolation, `debugPrint`, `dump`), so settings that hold one
/// can be logged or shown in an error without leaking it.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret itself: read it only to hand it to libcurl.
    public let value: String

    public init(_ value: String) { self.value = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
