import Foundation

/// A horizontal bar chart as SVG text: one row per category (labels on the
/// left), one bar per series in each row, values along the bottom axis with
/// ticks, grid lines and its label, each bar's value at its end, a legend
/// under the title. Plain text, no library: any browser or `rsvg-convert`
/// shows it.
public struct BarChart {
    public var title: String
    /// A second line under the title (the checkpoint, the settings).
    public var subtitle: String
    /// The value axis, with its unit: "energy per sample (nJ)".
    public var valueAxis: String
    /// What the rows are: "layer".
    public var categoryAxis: String
    public var categories: [String]
    /// One bar per category each; `values.count == categories.count`.
    public var series: [(name: String, values: [Double])]
    /// How a bar's value is printed at its end.
    public var format: (Double) -> String

    public init(title: String, subtitle: String, valueAxis: String, categoryAxis: String, categories: [String],
                series: [(name: String, values: [Double])], format: @escaping (Double) -> String = { String(format: "%.3g", $0) }) {
        precondition(series.allSatisfy { $0.values.count == categories.count },
                     "BarChart: \(categories.count) categories, series of \(series.map(\.values.count)) values")
        self.title = title; self.subtitle = subtitle; self.valueAxis = valueAxis; self.categoryAxis = categoryAxis
        self.categories = categories; self.series = series; self.format = format
    }

    /// Fill colours of the series, in order (distinct in grey scale too).
    static let colours = ["#1f5fa8", "#e08a1e", "#5a9e3a", "#8c4fa3", "#b03030"]
    static let fontSize = 13.0
    /// Width of one character of the 13 px sans-serif font, generous so labels never overlap.
    static let characterWidth = 7.8
    static let barHeight = 16.0, rowGap = 12.0

    /// Ticks `0, step, 2·step, …` up to the first at or above `maximum`: 4 to 8
    /// intervals of 1, 2 or 5 × 10^k.
    public static func ticks(upTo maximum: Double) -> [Double] {
        let top = maximum > 0 && maximum.isFinite ? maximum : 1
        let raw = top / 8, magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        let count = Int((top / step).rounded(.up))
        return (0...max(1, count)).map { Double($0) * step }
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func textWidth(_ text: String) -> Double { Double(text.count) * characterWidth }

    /// `text` cut into lines of at most `limit` characters, after a "/", "_" or space where it can
    /// (a checkpoint's path is longer than the chart is wide).
    public static func wrapped(_ text: String, limit: Int) -> [String] {
        var lines: [String] = [], rest = Substring(text)
        while rest.count > limit {
            let head = rest.prefix(limit)
            let cut = head.lastIndex { $0 == "/" || $0 == "_" || $0 == " " }.map { head.index(after: $0) } ?? head.endIndex
            lines.append(String(rest[..<cut]))
            rest = rest[cut...]
        }
        return lines + [String(rest)]
    }

    public var svg: String {
        let values = series.flatMap(\.values).filter(\.isFinite)
        let ticks = Self.ticks(upTo: values.max() ?? 0)
        let axisMaximum = ticks.last ?? 1
        let longestValue = values.map { Self.textWidth(format($0)) }.max() ?? 0
        let left = 20 + max(Self.textWidth(categoryAxis), categories.map(Self.textWidth).max() ?? 0) + 10
        let plotWidth = max(600, Self.textWidth(valueAxis) + 40)
        let legendWidth = series.map { 28 + Self.textWidth($0.name) }.reduce(0, +)
        let width = max(left + plotWidth + longestValue + 30, Self.textWidth(title) * 1.35 + 40, legendWidth + 40)
        let subtitleLines = Self.wrapped(subtitle, limit: Int((width - 40) / Self.characterWidth))
        let legendTop = 46 + 18 * Double(subtitleLines.count)
        let top = legendTop + 50
        let rowHeight = Double(series.count) * Self.barHeight + Self.rowGap
        let plotHeight = Double(categories.count) * rowHeight + Self.rowGap
        let height = top + plotHeight + 60
        func x(_ value: Double) -> Double { left + plotWidth * max(0, value) / axisMaximum }
        func number(_ v: Double) -> String { String(format: "%.1f", v) }

        var out = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(number(width))" height="\(number(height))" \
        viewBox="0 0 \(number(width)) \(number(height))" font-family="DejaVu Sans, Arial, sans-serif" font-size="\(Self.fontSize)">
        <rect width="100%" height="100%" fill="white"/>
        <text x="20" y="28" font-size="17" font-weight="bold">\(Self.escaped(title))</text>

        """
        for (i, line) in subtitleLines.enumerated() {
            out += "<text x=\"20\" y=\"\(number(50 + 18 * Double(i)))\" fill=\"#444\">\(Self.escaped(line))</text>\n"
        }
        var legendX = 20.0
        for (i, s) in series.enumerated() {
            out += "<rect x=\"\(number(legendX))\" y=\"\(number(legendTop))\" width=\"14\" height=\"14\" fill=\"\(Self.colours[i % Self.colours.count])\"/>"
            out += "<text x=\"\(number(legendX + 20))\" y=\"\(number(legendTop + 12))\">\(Self.escaped(s.name))</text>\n"
            legendX += 28 + Self.textWidth(s.name)
        }
        // Grid lines and tick labels of the value axis.
        let bottom = top + plotHeight
        for tick in ticks {
            out += "<line x1=\"\(number(x(tick)))\" y1=\"\(number(top))\" x2=\"\(number(x(tick)))\" y2=\"\(number(bottom))\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(number(x(tick)))\" y=\"\(number(bottom + 18))\" text-anchor=\"middle\">\(Self.escaped(String(format: "%g", tick)))</text>\n"
        }
        out += "<line x1=\"\(number(left))\" y1=\"\(number(bottom))\" x2=\"\(number(left + plotWidth))\" y2=\"\(number(bottom))\" stroke=\"black\"/>\n"
        out += "<line x1=\"\(number(left))\" y1=\"\(number(top))\" x2=\"\(number(left))\" y2=\"\(number(bottom))\" stroke=\"black\"/>\n"
        out += "<text x=\"\(number(left + plotWidth / 2))\" y=\"\(number(bottom + 42))\" text-anchor=\"middle\" font-weight=\"bold\">\(Self.escaped(valueAxis))</text>\n"
        // The category axis's name heads the column of row labels.
        out += "<text x=\"\(number(left - 8))\" y=\"\(number(top - 10))\" text-anchor=\"end\" font-weight=\"bold\">\(Self.escaped(categoryAxis))</text>\n"
        for (row, category) in categories.enumerated() {
            let rowTop = top + Self.rowGap + Double(row) * rowHeight
            let middle = rowTop + Double(series.count) * Self.barHeight / 2
            out += "<text x=\"\(number(left - 8))\" y=\"\(number(middle + 4.5))\" text-anchor=\"end\">\(Self.escaped(category))</text>\n"
            for (i, s) in series.enumerated() {
                let value = s.values[row], y = rowTop + Double(i) * Self.barHeight
                let end = value.isFinite ? x(value) : left
                out += "<rect x=\"\(number(left))\" y=\"\(number(y + 1))\" width=\"\(number(end - left))\" height=\"\(number(Self.barHeight - 2))\" fill=\"\(Self.colours[i % Self.colours.count])\"/>"
                out += "<text x=\"\(number(end + 4))\" y=\"\(number(y + Self.barHeight - 4))\" font-size=\"11\">\(Self.escaped(format(value)))</text>\n"
            }
        }
        out += "</svg>\n"
        return out
    }
}
