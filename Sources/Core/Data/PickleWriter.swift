import Foundation

extension Pickle {
    /// `value` as a protocol-2 pickle, the form `torch.save` writes data.pkl
    /// in: PROTO 2 … STOP, no memo. A `.call` is written as its callee
    /// (GLOBAL), its arguments as a tuple and REDUCE, followed by SETITEMS of
    /// its `dictItems` and APPENDS of its `listItems` (an `OrderedDict`'s
    /// contents); `.persistent` as its id and BINPERSID. `bytes` uses
    /// BINBYTES (protocol 3, which every Python 3 unpickler reads).
    public static func encode(_ value: PickleValue) -> [UInt8] {
        var out: [UInt8] = [0x80, 2]  // PROTO 2
        write(value, to: &out)
        out.append(0x2E)  // STOP
        return out
    }

    private static func write(_ value: PickleValue, to out: inout [UInt8]) {
        switch value {
        case .none:
            out.append(0x4E)  // NONE
        case .bool(let b):
            out.append(b ? 0x88 : 0x89)  // NEWTRUE / NEWFALSE
        case .int(let i):
            writeInt(i, to: &out)
        case .float(let f):
            out.append(0x47)  // BINFLOAT, big-endian IEEE 754
            withUnsafeBytes(of: f.bitPattern.bigEndian) { out.append(contentsOf: $0) }
        case .string(let s):
            out.append(0x58)  // BINUNICODE: u32 length, UTF-8
            appendSized(Array(s.utf8), to: &out)
        case .bytes(let b):
            out.append(0x42)  // BINBYTES: u32 length
            appendSized(b, to: &out)
        case .tuple(let items):
            if items.isEmpty { out.append(0x29); return }  // EMPTY_TUPLE
            out.append(0x28)  // MARK
            for item in items { write(item, to: &out) }
            out.append(0x74)  // TUPLE
        case .list(let items):
            out.append(0x5D)  // EMPTY_LIST
            appendItems(items, to: &out)
        case .dict(let entries):
            out.append(0x7D)  // EMPTY_DICT
            setItems(entries, to: &out)
        case .global(let global):
            writeGlobal(global, to: &out)
        case .call(let call):
            writeGlobal(call.callee, to: &out)
            write(.tuple(call.arguments), to: &out)
            out.append(call.isNewObject ? 0x81 : 0x52)  // NEWOBJ / REDUCE
            if let state = call.state {
                write(state, to: &out)
                out.append(0x62)  // BUILD
            }
            appendItems(call.listItems, to: &out)
            setItems(call.dictItems, to: &out)
        case .persistent(let id):
            write(id, to: &out)
            out.append(0x51)  // BINPERSID
        }
    }

    private static func writeInt(_ i: Int, to out: inout [UInt8]) {
        if i >= 0 && i < 0x100 {
            out += [0x4B, UInt8(i)]  // BININT1
        } else if i >= 0 && i < 0x10000 {
            out.append(0x4D)  // BININT2
            withUnsafeBytes(of: UInt16(i).littleEndian) { out.append(contentsOf: $0) }
        } else if let small = Int32(exactly: i) {
            out.append(0x4A)  // BININT
            withUnsafeBytes(of: small.littleEndian) { out.append(contentsOf: $0) }
        } else {
            // LONG1: the shortest little-endian two's complement.
            var bytes: [UInt8] = []
            withUnsafeBytes(of: Int64(i).littleEndian) { bytes = Array($0) }
            while bytes.count > 1,
                  (bytes[bytes.count - 1] == 0 && bytes[bytes.count - 2] & 0x80 == 0)
                    || (bytes[bytes.count - 1] == 0xFF && bytes[bytes.count - 2] & 0x80 != 0) {
                bytes.removeLast()
            }
            out += [0x8A, UInt8(bytes.count)] + bytes
        }
    }

    private static func writeGlobal(_ global: PickleGlobal, to out: inout [UInt8]) {
        out.append(0x63)  // GLOBAL "module\nname\n"
        out += Array("\(global.module)\n\(global.name)\n".utf8)
    }

    private static func appendSized(_ bytes: [UInt8], to out: inout [UInt8]) {
        precondition(bytes.count <= Int(UInt32.max), "Pickle.encode: \(bytes.count) bytes exceed a u32 length")
        withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { out.append(contentsOf: $0) }
        out += bytes
    }

    private static func appendItems(_ items: [PickleValue], to out: inout [UInt8]) {
        guard !items.isEmpty else { return }
        out.append(0x28)  // MARK
        for item in items { write(item, to: &out) }
        out.append(0x65)  // APPENDS
    }

    private static func setItems(_ entries: [PickleEntry], to out: inout [UInt8]) {
        guard !entries.isEmpty else { return }
        out.append(0x28)  // MARK
        for entry in entries {
            write(entry.key, to: &out)
            write(entry.value, to: &out)
        }
        out.append(0x75)  // SETITEMS
    }
}
