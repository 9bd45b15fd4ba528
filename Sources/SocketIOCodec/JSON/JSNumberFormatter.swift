/// Writes doubles the way JavaScript does (`Number.prototype.toString()` and
/// `JSON.stringify`), so re-encoded packets match what Node.js would send.
///
/// Both JavaScript and Swift print the shortest decimal digits that round-trip
/// to the same double; they only disagree on layout ("1e-07" vs "1e-7",
/// "100.0" vs "100"). So the digits are taken from `Double.description` and
/// laid out again by ECMA-262's Number::toString rules.
public enum JSNumberFormatter {
    /// Number.prototype.toString() (radix 10) for finite values; "NaN",
    /// "Infinity", "-Infinity" otherwise. -0 gives "0".
    public static func string(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendFinite(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends what JSON.stringify writes for a number: like `string` for
    /// finite values, "null" for NaN/±Infinity.
    public static func appendJSON(_ value: Double, to output: inout [UInt8]) {
        appendJSONNumber(value, to: &output)
    }

    /// ``appendJSON(_:to:)`` into any sink (the broadcast fast path's writer).
    static func appendJSONNumber<Sink: ByteSink>(_ value: Double, to output: inout Sink) {
        if value.isFinite {
            appendFinite(value, to: &output)
        } else {
            output.append(0x6E)  // null
            output.append(0x75)
            output.append(0x6C)
            output.append(0x6C)
        }
    }

    /// 2^53: below it every integral double is an exact Int64 and prints as one.
    private static let exactIntegerLimit = 9_007_199_254_740_992.0

    private static func appendFinite<Sink: ByteSink>(_ value: Double, to output: inout Sink) {
        if value.magnitude < exactIntegerLimit, value.rounded(.towardZero) == value {
            // Integral fast path: no String, and -0 becomes 0 as in JavaScript.
            appendInteger(Int64(value), to: &output)
            return
        }
        if value < 0 { output.append(UInt8(ascii: "-")) }
        let description = value.magnitude.description
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxDigits) { buffer in
            let (count, exponent) = readDigits(description, into: buffer)
            guard count > 0 else { return output.append(UInt8(ascii: "0")) }  // not for a nonzero value
            layOut(UnsafeBufferPointer(rebasing: buffer[..<count]), exponent: exponent, to: &output)
        }
    }

    /// Appends the decimal digits of `value`, with a leading "-" when negative.
    static func appendInteger<Sink: ByteSink>(_ value: Int64, to output: inout Sink) {
        if value < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        if magnitude < 10 {
            output.append(0x30 + UInt8(magnitude))
            return
        }
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes, enough for 20 digits
        withUnsafeMutableBytes(of: &scratch) { buffer in
            var position = buffer.count
            while magnitude > 0 {
                position -= 1
                buffer[position] = 0x30 + UInt8(magnitude % 10)
                magnitude /= 10
            }
            for i in position..<buffer.count { output.append(buffer[i]) }
        }
    }

    /// Shortest round-trip digits never exceed 17; the rest is headroom.
    private static let maxDigits = 32

    /// Reads Swift's description of a positive double ("1.5", "1e-07",
    /// "1.2345e+21", "100.0") into its significant digits, without leading or
    /// trailing zeros; returns their count and n such that the value is
    /// 0.digits × 10^n.
    private static func readDigits(
        _ text: String,
        into digits: UnsafeMutableBufferPointer<UInt8>
    ) -> (count: Int, exponent: Int) {
        var count = 0
        var leadingZeros = 0
        var pointPosition: Int?
        var exponent = 0
        var exponentSign = 1
        var inExponent = false
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if inExponent {
                    exponent = exponent * 10 + Int(byte - UInt8(ascii: "0"))
                } else if count == 0 && byte == UInt8(ascii: "0") {
                    leadingZeros += 1
                } else if count < digits.count {
                    digits[count] = byte
                    count += 1
                }
            case UInt8(ascii: "."):
                pointPosition = count + leadingZeros
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                inExponent = true
            case UInt8(ascii: "-"):
                exponentSign = -1
            default:
                break  // the "+" of an exponent
            }
        }
        let integerDigits = (pointPosition ?? (count + leadingZeros)) - leadingZeros
        while count > 0 && digits[count - 1] == UInt8(ascii: "0") { count -= 1 }
        return (count, integerDigits + exponentSign * exponent)
    }

    /// ECMA-262 Number::toString(10) step 5 onwards, for digits s of length k
    /// and exponent n (value = 0.s × 10^n).
    private static func layOut<Sink: ByteSink>(
        _ digits: UnsafeBufferPointer<UInt8>,
        exponent n: Int,
        to output: inout Sink
    ) {
        let k = digits.count
        if k <= n && n <= 21 {
            output.append(contentsOf: digits)
            for _ in 0..<(n - k) { output.append(UInt8(ascii: "0")) }
        } else if 0 < n && n <= 21 {
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[..<n]))
            output.append(UInt8(ascii: "."))
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[n...]))
        } else if -6 < n && n <= 0 {
            output.append(UInt8(ascii: "0"))
            output.append(UInt8(ascii: "."))
            for _ in 0..<(-n) { output.append(UInt8(ascii: "0")) }
            output.append(contentsOf: digits)
        } else {
            output.append(digits[0])
            if k > 1 {
                output.append(UInt8(ascii: "."))
                output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[1...]))
            }
            output.append(UInt8(ascii: "e"))
            output.append(n - 1 < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            appendInteger(Int64((n - 1).magnitude), to: &output)
        }
    }
}
