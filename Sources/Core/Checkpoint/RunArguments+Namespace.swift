import Foundation

/// The original's `args.txt` form, `Namespace(key=value, …)`: written for
/// users, and read back from checkpoints older than the JSON form.
extension RunArguments {
    /// The arguments as Python prints an `argparse.Namespace`: text as
    /// Python's `repr` quotes it (`'a, b'`, `"it's"`, `'a\\b'`), numbers
    /// as they are, `True`/`False`, `None`.
    public var namespaceText: String {
        "Namespace(" + entries.map { "\($0.key)=\(Self.pythonText($0.value))" }.joined(separator: ", ") + ")"
    }

    static func pythonText(_ value: Value) -> String {
        switch value {
        case .text(let text): return pythonRepr(text)
        case .number(let text): return text
        case .flag(let on): return on ? "True" : "False"
        case .none: return "None"
        }
    }

    /// Python's `repr` of a `str`: single quotes unless the text holds a
    /// single quote and no double quote; backslashes, the chosen quote and
    /// control characters escaped; other characters (unicode) as they are.
    static func pythonRepr(_ text: String) -> String {
        let quote: Character = text.contains("'") && !text.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where Character(scalar) == quote: out += "\\" + String(quote)
            case _ where scalar.value < 0x20 || (0x7f...0xa0).contains(scalar.value):
                out += "\\x" + String(scalar.value, radix: 16).leftPadded(to: 2)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + String(quote)
    }

    /// Reads the `Namespace(…)` text older checkpoints hold under `args`.
    ///
    /// Those were written without escaping (`name='a, b'`, `name='it's'`),
    /// so items are split only at a `, ` that is followed by a name and `=`
    /// (`, lr=`): a value holding `, ` or quotes comes back whole unless it
    /// holds such a `, name=` itself, which the old text cannot tell apart.
    /// One pair of enclosing quotes is removed; `None` is an option not
    /// given. Text that is not of this form gives no arguments.
    public init(namespace: String) {
        self.init()
        guard let open = namespace.firstIndex(of: "("), let close = namespace.lastIndex(of: ")"), open < close else { return }
        let body = Array(namespace[namespace.index(after: open)..<close].unicodeScalars)
        var itemStart = 0
        var items: [ArraySlice<Unicode.Scalar>] = []
        var i = 0
        while i + 1 < body.count {
            if body[i] == ",", body[i + 1] == " ", Self.startsWithName(body, at: i + 2) {
                items.append(body[itemStart..<i])
                itemStart = i + 2
                i += 2
            } else {
                i += 1
            }
        }
        items.append(body[itemStart...])
        for item in items {
            guard let equals = item.firstIndex(of: "="), equals > item.startIndex else { continue }
            let key = String(String.UnicodeScalarView(item[..<equals]))
            guard Self.startsWithName(Array(item), at: 0) else { continue }
            entries.append(Entry(key, Self.value(String(String.UnicodeScalarView(item[(equals + 1)...])))))
        }
    }

    /// Whether `scalars[start...]` begins with an argument's name (ASCII
    /// letters, digits after the first, `_`) followed by `=`.
    private static func startsWithName(_ scalars: [Unicode.Scalar], at start: Int) -> Bool {
        func inName(_ s: Unicode.Scalar, first: Bool) -> Bool {
            s == "_" || ("a"..."z").contains(s) || ("A"..."Z").contains(s) || (!first && ("0"..."9").contains(s))
        }
        var i = start
        while i < scalars.count, inName(scalars[i], first: i == start) { i += 1 }
        return i > start && i < scalars.count && scalars[i] == "="
    }

    private static func value(_ raw: String) -> Value {
        switch raw {
        case "None": return .none
        case "True": return .flag(true)
        case "False": return .flag(false)
        default: break
        }
        if raw.count >= 2, let first = raw.first, first == raw.last, first == "'" || first == "\"" {
            return .text(String(raw.dropFirst().dropLast()))
        }
        return Double(raw) != nil ? .number(raw) : .text(raw)
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
