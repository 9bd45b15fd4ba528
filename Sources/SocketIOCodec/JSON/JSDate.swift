/// JavaScript `Date` formatting, for the `toJSON` that `JSON.stringify` calls
/// on every Date: the proleptic Gregorian calendar in UTC with no time zone
/// or leap-second handling, exactly as ECMA-262 defines its time values.
public enum JSDate {
    /// The largest magnitude of a JavaScript time value (±100,000,000 days).
    public static let maxTimeValue = 8.64e15

    /// Date.prototype.toISOString for a time value in ms; nil for NaN or
    /// outside ±8.64e15 (JSON then writes null).
    /// Years 0...9999 as YYYY; others as +YYYYYY / -YYYYYY (6 digits, sign
    /// always), e.g. "-000001-01-01T00:00:00.000Z".
    ///
    /// A fractional value is truncated toward zero first, as TimeClip does
    /// when a Date is built, so 1.5 and -0.5 print like 1 and 0.
    public static func isoString(milliseconds: Double) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(27)
        guard appendISOString(milliseconds: milliseconds, to: &bytes) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the toISOString text; returns false, appending nothing, when
    /// the time value is invalid.
    static func appendISOString(milliseconds: Double, to output: inout [UInt8]) -> Bool {
        guard !milliseconds.isNaN, milliseconds.magnitude <= maxTimeValue else { return false }
        // Exact: |t| <= 8.64e15 < 2^53.
        let time = Int64(milliseconds.rounded(.towardZero))
        let msPerDay: Int64 = 86_400_000
        var days = time / msPerDay
        var msOfDay = time % msPerDay
        if msOfDay < 0 {
            msOfDay += msPerDay
            days -= 1
        }
        let (year, month, day) = civilDate(daysSinceEpoch: days)

        if year >= 0 && year <= 9999 {
            appendPadded(year, width: 4, to: &output)
        } else {
            output.append(year < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            appendPadded(year.magnitude, width: 6, to: &output)
        }
        output.append(UInt8(ascii: "-"))
        appendPadded(month, width: 2, to: &output)
        output.append(UInt8(ascii: "-"))
        appendPadded(day, width: 2, to: &output)
        output.append(UInt8(ascii: "T"))
        appendPadded(msOfDay / 3_600_000, width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendPadded(msOfDay / 60_000 % 60, width: 2, to: &output)
        output.append(UInt8(ascii: ":"))
        appendPadded(msOfDay / 1000 % 60, width: 2, to: &output)
        output.append(UInt8(ascii: "."))
        appendPadded(msOfDay % 1000, width: 3, to: &output)
        output.append(UInt8(ascii: "Z"))
        return true
    }

    /// Year, month (1...12) and day (1...31) of a day count from 1970-01-01,
    /// by shifting to years that start on March 1 so the leap day comes last
    /// and every 400-year era has the same 146,097 days.
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = daysSinceEpoch + 719_468  // days from 0000-03-01
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097  // 0...146096
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // from March 1
        let monthFromMarch = (5 * dayOfYear + 2) / 153  // 0...11
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// Writes exactly `width` digits; every field here fits its width.
    private static func appendPadded<T: BinaryInteger>(_ value: T, width: Int, to output: inout [UInt8]) {
        var divisor: T = 1
        for _ in 1..<width { divisor *= 10 }
        while divisor > 0 {
            output.append(0x30 + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }
}
