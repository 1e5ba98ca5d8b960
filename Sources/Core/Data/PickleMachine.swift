// The pickle virtual machine of `Pickle.parse`. Objects live in an arena and
// refer to each other by index, so containers can be mutated after they are
// memoized (as pickle requires) and a hostile file cannot build a chain of
// references whose release recurses; the value tree is built once at STOP,
// where nesting depth and cycles are checked.

/// A hashable image of a dict key (Python hashes `True` as 1 and `1.0` as 1).
enum PickleKey: Hashable {
    case none, int(Int), float(UInt64), string(String), bytes([UInt8]), global(PickleGlobal)
    case tuple([PickleKey])
}

struct PickleMachine {
    enum Node {
        case leaf(PickleValue)  // scalars, strings, bytes, globals
        case tuple([Int])
        case list(Int)  // index into `lists`
        case dict(Int)  // index into `dicts`
        case call(Int)  // index into `calls`
        case persistent(Int)
    }

    struct Dict {
        var entries: [(key: Int, value: Int)] = []
        var positions: [PickleKey: Int] = [:]
    }

    struct Call {
        let callee: PickleGlobal
        let arguments: [Int]
        let isNewObject: Bool
        var state: Int?
        var listItems: [Int] = []
        var dict = Dict()
    }

    let bytes: [UInt8]
    let name: String
    let allowlist: Pickle.Allowlist
    let maxDepth: Int

    var position = 0
    var opcodeStart = 0
    var nodes: [Node] = []
    var offsets: [Int] = []  // where each node was made, for messages
    var lists: [[Int]] = []
    var dicts: [Dict] = []
    var calls: [Call] = []
    var stack: [Int] = []
    var marks: [Int] = []
    var memo: [Int: Int] = [:]

    init(bytes: [UInt8], name: String, allowlist: Pickle.Allowlist, maxDepth: Int) {
        self.bytes = bytes; self.name = name; self.allowlist = allowlist; self.maxDepth = maxDepth
    }

    // MARK: - Errors and reading

    func refuse(_ what: String, at offset: Int? = nil) -> DataError {
        DataError("\(name): byte \(offset ?? opcodeStart): refused \(what). This reader executes nothing and accepts "
                  + "only the data pickles it knows; check that the file is the dataset or checkpoint it should be "
                  + "(re-download it if in doubt)")
    }

    var remaining: Int { bytes.count - position }

    mutating func read(_ count: UInt64, _ what: String) throws -> ArraySlice<UInt8> {
        guard count <= UInt64(remaining) else {
            throw refuse("\(what) claiming \(count) bytes when only \(remaining) remain (truncated or corrupt file)")
        }
        let start = position
        position += Int(count)
        return bytes[start..<position]
    }

    /// A little-endian unsigned integer of `size` bytes.
    mutating func readUnsigned(_ size: Int, _ what: String) throws -> UInt64 {
        let field = try read(UInt64(size), what)
        return field.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func readText(_ count: UInt64, _ what: String) throws -> String {
        let field = try read(count, what)
        guard let text = String(bytes: field, encoding: .utf8) else { throw refuse("\(what) that is not valid UTF-8") }
        return text
    }

    /// A newline-terminated line (GLOBAL's module and name).
    mutating func readLine(_ what: String) throws -> String {
        let limit = min(remaining, 512)
        guard let end = bytes[position..<(position + limit)].firstIndex(of: 0x0A) else {
            throw refuse("\(what) without a newline in the next \(limit) bytes")
        }
        let line = try readText(UInt64(end - position), what)
        position += 1
        return line
    }

    // MARK: - Stack

    mutating func push(_ node: Node) {
        nodes.append(node)
        offsets.append(opcodeStart)
        stack.append(nodes.count - 1)
    }

    mutating func pop(_ what: String) throws -> Int {
        guard stack.count > (marks.last ?? 0) else { throw refuse("\(what) on an empty stack") }
        return stack.removeLast()
    }

    func top(_ what: String) throws -> Int {
        guard stack.count > (marks.last ?? 0), let node = stack.last else { throw refuse("\(what) on an empty stack") }
        return node
    }

    mutating func popMark(_ what: String) throws -> [Int] {
        guard let mark = marks.popLast() else { throw refuse("\(what) without a MARK") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    // MARK: - Containers

    mutating func append(_ items: [Int], to target: Int, _ what: String) throws {
        switch nodes[target] {
        case .list(let l): lists[l] += items
        case .call(let c): calls[c].listItems += items
        default: throw refuse("\(what) on \(kind(target)) (only lists and recorded calls take items)")
        }
    }

    mutating func setItems(_ pairs: [Int], on target: Int, _ what: String) throws {
        switch nodes[target] {
        case .dict(let d): try insert(pairs, into: &dicts[d], what)
        case .call(let c): try insert(pairs, into: &calls[c].dict, what)
        default: throw refuse("\(what) on \(kind(target)) (only dicts and recorded calls take items)")
        }
    }

    /// Adds keys and values (alternating in `pairs`) as DICT, SETITEM and SETITEMS do.
    func insert(_ pairs: [Int], into dict: inout Dict, _ what: String) throws {
        guard pairs.count % 2 == 0 else { throw refuse("\(what) with an odd number (\(pairs.count)) of keys and values") }
        for i in stride(from: 0, to: pairs.count, by: 2) {
            var budget = Self.maxKeyItems
            let key = try hashKey(pairs[i], depth: 0, budget: &budget)
            if let existing = dict.positions[key] {
                dict.entries[existing].value = pairs[i + 1]
            } else {
                dict.positions[key] = dict.entries.count
                dict.entries.append((pairs[i], pairs[i + 1]))
            }
        }
    }

    /// The most items a dict key may hold, counted through nested tuples. A
    /// tuple that holds one memoized tuple twice, 60 levels deep, is 2^60
    /// items; real keys (str, int, small tuples) hold a handful.
    static let maxKeyItems = 10_000

    func hashKey(_ node: Int, depth: Int, budget: inout Int) throws -> PickleKey {
        guard depth < maxDepth else { throw refuse("a dict key nested deeper than \(maxDepth) levels") }
        budget -= 1
        guard budget >= 0 else { throw refuse("a dict key of more than \(Self.maxKeyItems) items (nested tuples)") }
        switch nodes[node] {
        case .leaf(.none): return .none
        case .leaf(.bool(let b)): return .int(b ? 1 : 0)
        case .leaf(.int(let i)): return .int(i)
        case .leaf(.float(let f)):
            if f.rounded() == f, let i = Int(exactly: f) { return .int(i) }
            return .float(f.bitPattern)
        case .leaf(.string(let s)): return .string(s)
        case .leaf(.bytes(let b)): return .bytes(b)
        case .leaf(.global(let g)): return .global(g)
        case .tuple(let items): return .tuple(try items.map { try hashKey($0, depth: depth + 1, budget: &budget) })
        default: throw refuse("\(kind(node)) as a dict key (unhashable)")
        }
    }

    func kind(_ node: Int) -> String {
        switch nodes[node] {
        case .leaf(let value): return value.summary
        case .tuple(let items): return "a tuple of \(items.count)"
        case .list: return "a list"
        case .dict: return "a dict"
        case .call(let c): return "a call of \(calls[c].callee)"
        case .persistent: return "a persistent id"
        }
    }

    // MARK: - Globals and calls

    mutating func pushGlobal(module: String, name global: String) throws {
        let g = PickleGlobal(module, global)
        guard allowlist.permits(g) else {
            throw refuse("the global \(g) (allowed here: \(allowlist.description))")
        }
        push(.leaf(.global(g)))
    }

    /// REDUCE and NEWOBJ: `callable(*arguments)`, recorded or, for the
    /// `bytes` spellings, decoded.
    mutating func call(isNewObject: Bool) throws {
        let what = isNewObject ? "NEWOBJ" : "REDUCE"
        let argumentsNode = try pop(what), calleeNode = try pop(what)
        guard case .leaf(.global(let callee)) = nodes[calleeNode] else {
            throw refuse("\(what) of \(kind(calleeNode)) (only globals can be called)")
        }
        guard case .tuple(let arguments) = nodes[argumentsNode] else {
            throw refuse("\(what) of \(callee) with \(kind(argumentsNode)) as its arguments (expected a tuple)")
        }
        if Pickle.bytesSpellings.contains(callee) {
            push(.leaf(.bytes(try decodeBytes(callee, arguments))))
            return
        }
        guard allowlist.callables.contains(callee) else {
            throw refuse("\(what) of \(callee), which may be named here but not called")
        }
        calls.append(Call(callee: callee, arguments: arguments, isNewObject: isNewObject))
        push(.call(calls.count - 1))
    }

    func decodeBytes(_ callee: PickleGlobal, _ arguments: [Int]) throws -> [UInt8] {
        if callee.name == "bytes" {
            guard arguments.isEmpty else { throw refuse("\(callee) with arguments (expected bytes())") }
            return []
        }
        guard arguments.count == 2, case .leaf(.string(let text)) = nodes[arguments[0]],
              case .leaf(.string(let encoding)) = nodes[arguments[1]],
              ["latin1", "latin-1", "iso-8859-1"].contains(encoding.lowercased())
        else { throw refuse("\(callee) with arguments other than (str, 'latin1')") }
        var result: [UInt8] = []
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            guard scalar.value <= 0xFF else {
                throw refuse("\(callee) of a str with U+\(String(scalar.value, radix: 16)) (not latin1)")
            }
            result.append(UInt8(scalar.value))
        }
        return result
    }

    mutating func build() throws {
        let state = try pop("BUILD"), target = try top("BUILD")
        guard case .call(let c) = nodes[target] else {
            throw refuse("BUILD on \(kind(target)) (only recorded calls take a state)")
        }
        guard calls[c].state == nil else { throw refuse("a second BUILD on the call of \(calls[c].callee)") }
        calls[c].state = state
    }
}
