import Foundation

// The opcodes of protocols 2–5 that data pickles use (pickletools names them);
// anything else, including protocol 0/1 text opcodes, is refused by name.

extension PickleMachine {
    static let opcodeNames: [UInt8: String] = [
        0x80: "PROTO", 0x95: "FRAME", 0x2E: "STOP", 0x28: "MARK", 0x7D: "EMPTY_DICT", 0x5D: "EMPTY_LIST",
        0x29: "EMPTY_TUPLE", 0x4A: "BININT", 0x4B: "BININT1", 0x4D: "BININT2", 0x8A: "LONG1", 0x47: "BINFLOAT",
        0x8C: "SHORT_BINUNICODE", 0x58: "BINUNICODE", 0x8D: "BINUNICODE8", 0x54: "BINSTRING",
        0x55: "SHORT_BINSTRING", 0x43: "SHORT_BINBYTES", 0x42: "BINBYTES", 0x8E: "BINBYTES8",
        0x96: "BYTEARRAY8", 0x4E: "NONE", 0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x74: "TUPLE", 0x85: "TUPLE1",
        0x86: "TUPLE2", 0x87: "TUPLE3", 0x6C: "LIST", 0x61: "APPEND", 0x65: "APPENDS", 0x64: "DICT",
        0x73: "SETITEM", 0x75: "SETITEMS", 0x71: "BINPUT", 0x72: "LONG_BINPUT", 0x94: "MEMOIZE",
        0x68: "BINGET", 0x6A: "LONG_BINGET", 0x63: "GLOBAL", 0x93: "STACK_GLOBAL", 0x52: "REDUCE",
        0x62: "BUILD", 0x81: "NEWOBJ", 0x51: "BINPERSID",
        // Known but refused:
        0x49: "INT", 0x4C: "LONG", 0x8B: "LONG4", 0x46: "FLOAT", 0x53: "STRING", 0x56: "UNICODE",
        0x70: "PUT", 0x67: "GET", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x50: "PERSID", 0x69: "INST",
        0x6F: "OBJ", 0x92: "NEWOBJ_EX", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x8F: "EMPTY_SET",
        0x90: "ADDITEMS", 0x91: "FROZENSET", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
    ]

    mutating func run() throws -> PickleValue {
        while position < bytes.count {
            opcodeStart = position
            let opcode = bytes[position]
            position += 1
            if opcode == 0x2E { return try finish() }  // STOP
            guard try frame(opcode) || literal(opcode) || container(opcode) || memoized(opcode) || object(opcode) else {
                throw refuseUnknown(opcode)
            }
        }
        throw DataError("\(name): the pickle ends after \(bytes.count) bytes without its STOP opcode; "
                        + "the file is truncated — download it again")
    }

    /// PROTO, FRAME, MARK and the empty containers; false for any other opcode.
    mutating func frame(_ opcode: UInt8) throws -> Bool {
        switch opcode {
        case 0x80:  // PROTO
            let version = try readUnsigned(1, "PROTO")
            guard version <= 5 else { throw refuse("pickle protocol \(version) (this reader knows 2 to 5)") }
        case 0x95:  // FRAME: a read-ahead hint, checked but otherwise ignored
            let length = try readUnsigned(8, "FRAME")
            guard length <= UInt64(remaining) else {
                throw refuse("a FRAME claiming \(length) bytes when only \(remaining) remain (truncated file)")
            }
        case 0x28: marks.append(stack.count)
        case 0x7D: dicts.append(Dict()); push(.dict(dicts.count - 1))
        case 0x5D: lists.append([]); push(.list(lists.count - 1))
        case 0x29: push(.tuple([]))
        default: return false
        }
        return true
    }

    /// The scalar values: integers, floats, None, booleans, text and bytes; false for any other opcode.
    mutating func literal(_ opcode: UInt8) throws -> Bool {
        switch opcode {
        case 0x4A: push(.leaf(.int(Int(Int32(truncatingIfNeeded: try readUnsigned(4, "BININT"))))))
        case 0x4B: push(.leaf(.int(Int(try readUnsigned(1, "BININT1")))))
        case 0x4D: push(.leaf(.int(Int(try readUnsigned(2, "BININT2")))))
        case 0x8A: push(.leaf(.int(try readLong1())))
        case 0x47:
            let field = try read(8, "BINFLOAT")
            push(.leaf(.float(Double(bitPattern: field.reduce(0) { $0 << 8 | UInt64($1) }))))  // big-endian
        case 0x4E: push(.leaf(.none))
        case 0x88: push(.leaf(.bool(true)))
        case 0x89: push(.leaf(.bool(false)))

        case 0x8C: push(.leaf(.string(try readText(try readUnsigned(1, "SHORT_BINUNICODE"), "SHORT_BINUNICODE"))))
        case 0x58: push(.leaf(.string(try readText(try readUnsigned(4, "BINUNICODE"), "BINUNICODE"))))
        case 0x8D: push(.leaf(.string(try readText(try readUnsigned(8, "BINUNICODE8"), "BINUNICODE8"))))
        case 0x55: push(.leaf(.bytes(Array(try read(try readUnsigned(1, "SHORT_BINSTRING"), "SHORT_BINSTRING")))))
        case 0x54:
            let length = Int32(truncatingIfNeeded: try readUnsigned(4, "BINSTRING"))
            guard length >= 0 else { throw refuse("BINSTRING with the negative length \(length)") }
            push(.leaf(.bytes(Array(try read(UInt64(length), "BINSTRING")))))
        case 0x43: push(.leaf(.bytes(Array(try read(try readUnsigned(1, "SHORT_BINBYTES"), "SHORT_BINBYTES")))))
        case 0x42: push(.leaf(.bytes(Array(try read(try readUnsigned(4, "BINBYTES"), "BINBYTES")))))
        case 0x8E: push(.leaf(.bytes(Array(try read(try readUnsigned(8, "BINBYTES8"), "BINBYTES8")))))
        case 0x96: push(.leaf(.bytes(Array(try read(try readUnsigned(8, "BYTEARRAY8"), "BYTEARRAY8")))))
        default: return false
        }
        return true
    }

    /// Tuples, lists and dicts built from the stack; false for any other opcode.
    mutating func container(_ opcode: UInt8) throws -> Bool {
        switch opcode {
        case 0x74: push(.tuple(try popMark("TUPLE")))
        case 0x85, 0x86, 0x87:
            let count = Int(opcode - 0x84), what = "TUPLE\(count)"
            var items: [Int] = []
            for _ in 0..<count { items.insert(try pop(what), at: 0) }
            push(.tuple(items))
        case 0x6C: lists.append(try popMark("LIST")); push(.list(lists.count - 1))
        case 0x61:
            let item = try pop("APPEND")
            try append([item], to: try top("APPEND"), "APPEND")
        case 0x65:
            let items = try popMark("APPENDS")
            try append(items, to: try top("APPENDS"), "APPENDS")
        case 0x64:
            let pairs = try popMark("DICT")
            dicts.append(Dict())
            try insert(pairs, into: &dicts[dicts.count - 1], "DICT")
            push(.dict(dicts.count - 1))
        case 0x73:
            let value = try pop("SETITEM"), key = try pop("SETITEM")
            try setItems([key, value], on: try top("SETITEM"), "SETITEM")
        case 0x75:
            let pairs = try popMark("SETITEMS")
            try setItems(pairs, on: try top("SETITEMS"), "SETITEMS")
        default: return false
        }
        return true
    }

    /// The memo: PUT and GET in their binary forms; false for any other opcode.
    mutating func memoized(_ opcode: UInt8) throws -> Bool {
        switch opcode {
        case 0x71: memo[Int(try readUnsigned(1, "BINPUT"))] = try top("BINPUT")
        case 0x72: memo[Int(try readUnsigned(4, "LONG_BINPUT"))] = try top("LONG_BINPUT")
        case 0x94: memo[memo.count] = try top("MEMOIZE")
        case 0x68: try get(Int(try readUnsigned(1, "BINGET")), "BINGET")
        case 0x6A: try get(Int(try readUnsigned(4, "LONG_BINGET")), "LONG_BINGET")
        default: return false
        }
        return true
    }

    /// Globals, calls, BUILD and persistent ids; false for any other opcode.
    mutating func object(_ opcode: UInt8) throws -> Bool {
        switch opcode {
        case 0x63:
            let module = try readLine("GLOBAL module"), global = try readLine("GLOBAL name")
            try pushGlobal(module: module, name: global)
        case 0x93:
            let nameNode = try pop("STACK_GLOBAL"), moduleNode = try pop("STACK_GLOBAL")
            guard case .leaf(.string(let module)) = nodes[moduleNode], case .leaf(.string(let global)) = nodes[nameNode]
            else { throw refuse("STACK_GLOBAL of \(kind(moduleNode)) and \(kind(nameNode)) (expected two str)") }
            try pushGlobal(module: module, name: global)
        case 0x52: try call(isNewObject: false)
        case 0x81: try call(isNewObject: true)
        case 0x62: try build()
        case 0x51:
            guard allowlist.persistentIDs else { throw refuse("BINPERSID (persistent ids are not expected in this file)") }
            push(.persistent(try pop("BINPERSID")))
        default: return false
        }
        return true
    }

    /// The error for an opcode this reader does not take, naming it (and a gzip or non-pickle file).
    func refuseUnknown(_ opcode: UInt8) -> Error {
        let known = Self.opcodeNames[opcode].map { "the opcode \($0)" } ?? "an unknown opcode"
        let start = opcodeStart > 0 ? ""
            : bytes.starts(with: [0x1F, 0x8B]) ? "; the file is gzip-compressed, not a pickle: gunzip it first"
            : "; the file does not start like a pickle"
        return refuse("\(known) (0x\(String(format: "%02X", opcode)))\(start)")
    }

    mutating func get(_ index: Int, _ what: String) throws {
        guard let node = memo[index] else { throw refuse("\(what) \(index), which no earlier PUT stored") }
        stack.append(node)
    }

    /// LONG1: a little-endian two's-complement integer of n bytes.
    mutating func readLong1() throws -> Int {
        let count = try readUnsigned(1, "LONG1")
        let field = try read(count, "LONG1")
        guard let last = field.last else { return 0 }
        let fill: UInt8 = last & 0x80 != 0 ? 0xFF : 0
        guard field.dropFirst(8).allSatisfy({ $0 == fill }),
              field.count <= 8 || (field[field.startIndex + 7] & 0x80 != 0) == (fill == 0xFF)
        else { throw refuse("LONG1 integer wider than 64 bits") }
        var value: UInt64 = fill == 0xFF ? ~0 : 0
        for (i, byte) in field.prefix(8).enumerated() {
            value &= ~(UInt64(0xFF) << (8 * UInt64(i)))
            value |= UInt64(byte) << (8 * UInt64(i))
        }
        return Int(Int64(bitPattern: value))
    }

    // MARK: - STOP: the value tree

    mutating func finish() throws -> PickleValue {
        guard marks.isEmpty else { throw refuse("STOP with \(marks.count) MARK(s) still open") }
        guard stack.count == 1 else { throw refuse("STOP with \(stack.count) values on the stack (expected 1)") }
        var cache = [PickleValue?](repeating: nil, count: nodes.count)
        var visiting = [Bool](repeating: false, count: nodes.count)
        return try value(stack[0], depth: 0, cache: &cache, visiting: &visiting)
    }

    func value(_ node: Int, depth: Int, cache: inout [PickleValue?], visiting: inout [Bool]) throws -> PickleValue {
        if case .leaf(let leaf) = nodes[node] { return leaf }
        if let done = cache[node] { return done }
        guard depth < maxDepth else {
            throw refuse("nesting deeper than \(maxDepth) levels (\(kind(node)) made here)", at: offsets[node])
        }
        guard !visiting[node] else { throw refuse("\(kind(node)) that contains itself", at: offsets[node]) }
        visiting[node] = true
        defer { visiting[node] = false }
        func convert(_ child: Int) throws -> PickleValue {
            try value(child, depth: depth + 1, cache: &cache, visiting: &visiting)
        }
        func convert(_ dict: Dict) throws -> [PickleEntry] {
            try dict.entries.map { PickleEntry(key: try convert($0.key), value: try convert($0.value)) }
        }
        let result: PickleValue
        switch nodes[node] {
        case .leaf(let leaf): result = leaf
        case .tuple(let items): result = .tuple(try items.map(convert))
        case .list(let l): result = .list(try lists[l].map(convert))
        case .dict(let d): result = .dict(try convert(dicts[d]))
        case .persistent(let id): result = .persistent(try convert(id))
        case .call(let c):
            let call = calls[c]
            result = .call(PickleCall(
                callee: call.callee, arguments: try call.arguments.map(convert), isNewObject: call.isNewObject,
                state: try call.state.map(convert), listItems: try call.listItems.map(convert),
                dictItems: try convert(call.dict)))
        }
        cache[node] = result
        return result
    }
}
