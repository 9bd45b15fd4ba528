// codec-bench's output: the results table and the number formats it uses
// (without Foundation, whose formatters allocate and vary by locale).

struct ResultTable {
    let nameWidth: Int
    let widths = (bytes: 7, rate: 14, ns: 10, allocs: 10, ratio: 11)

    var header: String {
        let titles = [
            pad("name", nameWidth, left: true),
            pad("bytes", widths.bytes),
            pad("msgs/s", widths.rate),
            pad("ns/msg", widths.ns),
            pad("allocs/msg", widths.allocs),
            pad("× msgpack-c", widths.ratio),
        ]
        let rule = [nameWidth, widths.bytes, widths.rate, widths.ns, widths.allocs, widths.ratio]
            .map { String(repeating: "-", count: $0) }
        return titles.joined(separator: " | ") + "\n" + rule.joined(separator: "-|-")
    }

    func row(_ result: BenchResult, anchor: BenchResult) -> String {
        [
            pad(result.name, nameWidth, left: true),
            pad(String(result.bytesPerMessage), widths.bytes),
            pad(grouped(Int(result.messagesPerSecond.rounded())), widths.rate),
            pad(fixed(result.nanosecondsPerMessage, decimals: 1), widths.ns),
            pad(fixed(result.allocationsPerMessage, decimals: 2), widths.allocs),
            pad(fixed(result.messagesPerSecond / anchor.messagesPerSecond, decimals: 2), widths.ratio),
        ].joined(separator: " | ")
    }
}

func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return left ? text + fill : fill + text
}

/// 12345678 -> "12,345,678"
func grouped(_ value: Int) -> String {
    let digits = Array(String(value.magnitude))
    var out = value < 0 ? "-" : ""
    for (index, digit) in digits.enumerated() {
        if index > 0 && (digits.count - index) % 3 == 0 {
            out.append(",")
        }
        out.append(digit)
    }
    return out
}

/// Fixed-point text without Foundation: fixed(3.14159, decimals: 2) -> "3.14"
func fixed(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return String(value) }
    var scale = 1
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((value.magnitude * Double(scale)).rounded())
    let sign = value < 0 && scaled != 0 ? "-" : ""
    guard decimals > 0 else { return sign + String(scaled) }
    let fraction = String(scaled % scale)
    return sign + String(scaled / scale) + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
}
