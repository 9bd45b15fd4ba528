/// Decimal digits of unsigned integers, written backwards into a buffer.
///
/// Ack ids live far above socket.io's own counter (16 digits), and every
/// injection writes one: a digit at a time in 64-bit arithmetic cost ~16
/// instructions per digit. Here eight digits are split off with one 64-bit
/// division by a constant, then written two at a time in 32-bit arithmetic.
enum DecimalDigits {
    /// Room for any UInt64.
    static let maximumCount = 20

    /// Writes the digits of `value` so that they end just before `end`;
    /// returns the index of the first one.
    @inline(__always)
    static func write(_ value: UInt64, endingAt end: Int, in buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var position = end
        var rest = value
        while rest >= 100_000_000 {
            let low = UInt32(truncatingIfNeeded: rest % 100_000_000)
            rest /= 100_000_000
            writeEight(low, endingAt: position, in: buffer)
            position -= 8
        }
        var small = UInt32(truncatingIfNeeded: rest)
        while small >= 100 {
            let pair = small % 100
            small /= 100
            writePair(pair, endingAt: position, in: buffer)
            position -= 2
        }
        if small >= 10 {
            writePair(small, endingAt: position, in: buffer)
            position -= 2
        } else {
            position -= 1
            buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: small)
        }
        return position
    }

    /// Exactly eight digits (leading zeros kept) of `value` < 10^8.
    @inline(__always)
    private static func writeEight(_ value: UInt32, endingAt end: Int, in buffer: UnsafeMutableBufferPointer<UInt8>) {
        var rest = value
        var position = end
        for _ in 0..<4 {
            let pair = rest % 100
            rest /= 100
            writePair(pair, endingAt: position, in: buffer)
            position -= 2
        }
    }

    /// Two digits of `pair` < 100. (pair × 103) >> 10 is pair / 10 for
    /// every pair below 179, without a division.
    @inline(__always)
    private static func writePair(_ pair: UInt32, endingAt end: Int, in buffer: UnsafeMutableBufferPointer<UInt8>) {
        let tens = (pair &* 103) &>> 10
        buffer[end - 2] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: tens)
        buffer[end - 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: pair &- tens &* 10)
    }
}
