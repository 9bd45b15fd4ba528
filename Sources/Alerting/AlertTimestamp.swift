import Durations
public import Foundation

/// The two date formats alerts use, written by hand so they are the same on
/// every platform and locale: RFC 3339 (webhooks) and RFC 5322 (email).
public enum AlertTimestamp {
    /// `2026-11-21T10:00:05.123Z`: UTC with milliseconds, like Alertmanager
    /// (which writes up to nanoseconds).
    public static func rfc3339(_ date: Date) -> String {
        let t = Civil(date)
        return
            "\(pad(t.year, 4))-\(pad(t.month))-\(pad(t.day))T\(pad(t.hour)):\(pad(t.minute)):\(pad(t.second)).\(pad(t.millisecond, 3))Z"
    }

    /// What Alertmanager writes as `endsAt` of an alert that still fires: Go's zero time.
    public static let zero = "0001-01-01T00:00:00Z"

    /// `Sat, 21 Nov 2026 10:00:05 +0000`: the email `Date:` header, in UTC.
    public static func rfc5322(_ date: Date) -> String {
        let t = Civil(date)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return
            "\(days[t.weekday]), \(pad(t.day)) \(months[t.month - 1]) \(t.year) \(pad(t.hour)):\(pad(t.minute)):\(pad(t.second)) +0000"
    }

    private static func pad(_ value: Int, _ width: Int = 2) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// A UTC calendar time, from days since 1970 with Howard Hinnant's
    /// `civil_from_days` (exact for the proleptic Gregorian calendar, no
    /// time-zone database, no locale).
    private struct Civil {
        var year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, millisecond = 0, weekday = 0

        init(_ date: Date) {
            // To the microsecond first: a Double holds 1700000000.123 as
            // ...0.12299990, which must still print as .123.
            let micros = Int((date.timeIntervalSince1970 * 1_000_000).rounded())
            let ms = micros >= 0 ? micros / 1000 : (micros - 999) / 1000
            let (days, msOfDay) = ms.quotientAndRemainder(dividingBy: 86_400_000)
            let dayNumber = msOfDay < 0 ? days - 1 : days
            let msInDay = msOfDay < 0 ? msOfDay + 86_400_000 : msOfDay
            hour = msInDay / 3_600_000
            minute = msInDay / 60_000 % 60
            second = msInDay / 1000 % 60
            millisecond = msInDay % 1000
            // 1970-01-01 was a Thursday (4, counting Sunday as 0).
            weekday = ((dayNumber % 7) + 11) % 7

            let z = dayNumber + 719_468
            let era = (z >= 0 ? z : z - 146_096) / 146_097
            let dayOfEra = z - era * 146_097
            let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
            let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
            let shiftedMonth = (5 * dayOfYear + 2) / 153
            day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
            month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
            year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        }
    }
}

/// Durations as people read them in a subject line: `450ms`, `12.7s`,
/// `2m 5s`, `1h 3m`, `2d 4h`. Two units at most; the smaller is dropped
/// when it is zero. Under a minute, tenths of a second show (rounded), so
/// that a 2.8 s outage does not read as 2 s.
public enum HumanDuration {
    public static func format(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if seconds < 0 { return "0s" }
        if seconds == 0 && attoseconds > 0 { return "\(attoseconds / 1_000_000_000_000_000)ms" }
        if seconds < 60 && attoseconds > 0 {
            let tenths = (seconds * 10) + (attoseconds + 50_000_000_000_000_000) / 100_000_000_000_000_000
            if tenths % 10 != 0 { return "\(tenths / 10).\(tenths % 10)s" }
            return tenths < 600 ? "\(tenths / 10)s" : format(.seconds(tenths / 10))
        }
        let units: [(name: String, size: Int64)] = [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]
        for (index, unit) in units.enumerated() where seconds >= unit.size || unit.size == 1 {
            let whole = seconds / unit.size
            guard index + 1 < units.count else { return "\(whole)\(unit.name)" }
            let next = units[index + 1]
            let rest = seconds % unit.size / next.size
            return rest == 0 ? "\(whole)\(unit.name)" : "\(whole)\(unit.name) \(rest)\(next.name)"
        }
        return "0s"
    }
}
