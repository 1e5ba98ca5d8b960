import ArgumentParser
import Foundation

/// The command line rewritten so that Swift ArgumentParser reads it as the
/// original's argparse does, for every command:
///
/// 1. `-flag=value` (argparse's spelling) becomes `-flag value`;
/// 2. a negative number after an option that takes a value is joined to it,
///    `--v-reset -0.06` → `--v-reset=-0.06`, `-lr -0.1` → `-lr=-0.1`,
///    `-T -2` → `-T=-2`. ArgumentParser reads any word that starts with a
///    dash as a flag ("Missing value for '--v-reset'"); argparse takes a word
///    that looks like a negative number as a value.
///
/// Which options take a value is read from the parser's own description of
/// the command tree (the JSON of `--experimental-dump-help`), so every option
/// of every command is covered and a flag (`-amp`) stays a flag. Words after
/// `--` are left as they are.
enum CommandLineNormalisation {
    static func normalised(_ arguments: [String], root: ParsableCommand.Type = CLIFMPI.self) -> [String] {
        let split = arguments.flatMap { argument -> [String] in
            guard argument.hasPrefix("-"), !argument.hasPrefix("--"), let eq = argument.firstIndex(of: "=") else {
                return [argument]
            }
            return [String(argument[..<eq]), String(argument[argument.index(after: eq)...])]
        }
        guard let tree = CommandTree(root) else { return split }
        var command = tree
        var output: [String] = []
        var index = 0
        // The subcommand path comes first: `clif-mpi infer …`.
        while index < split.count, let sub = command.subcommands.first(where: { $0.name == split[index] }) {
            output.append(split[index])
            command = sub
            index += 1
        }
        while index < split.count {
            let word = split[index]
            if word == "--" { return output + split[index...] }
            guard command.valueOptions.contains(word), index + 1 < split.count else {
                output.append(word)
                index += 1
                continue
            }
            let value = split[index + 1]
            if isNegativeNumber(value) && !command.valueOptions.contains(value) && !command.flags.contains(value) {
                output.append("\(word)=\(value)")
            } else {
                output += [word, value]
            }
            index += 2
        }
        return output
    }

    /// `-2`, `-0.06`, `-.5`, `-1e-3`, `-0.02,-0.04`: a dash, then a digit or a
    /// point and a digit. No option name of clif-mpi starts so.
    static func isNegativeNumber(_ word: String) -> Bool {
        let characters = Array(word)
        guard characters.count >= 2, characters[0] == "-" else { return false }
        if characters[1].isASCII && characters[1].isNumber { return true }
        return characters.count >= 3 && characters[1] == "." && characters[2].isASCII && characters[2].isNumber
    }
}

/// A command's option spellings, as `-name`, `--name` or `-c`.
private struct CommandTree {
    var name: String
    var valueOptions: Set<String>
    var flags: Set<String>
    var subcommands: [CommandTree]

    init?(_ root: ParsableCommand.Type) {
        guard let info = try? JSONDecoder().decode(ToolDescription.self, from: Data(root._dumpHelp().utf8)) else {
            return nil
        }
        self.init(info.command)
    }

    private init(_ command: ToolDescription.Command) {
        name = command.commandName
        func spellings(_ kind: String) -> Set<String> {
            Set((command.arguments ?? []).filter { $0.kind == kind }.flatMap { ($0.names ?? []).map(\.spelling) })
        }
        valueOptions = spellings("option")
        flags = spellings("flag")
        subcommands = (command.subcommands ?? []).map(CommandTree.init)
    }
}

/// The part of ArgumentParser's tool description (`ToolInfoV0`) read here.
private struct ToolDescription: Decodable {
    struct Name: Decodable {
        var kind: String
        var name: String
        var spelling: String { kind == "long" ? "--" + name : "-" + name }
    }
    struct Argument: Decodable {
        var kind: String
        var names: [Name]?
    }
    struct Command: Decodable {
        var commandName: String
        var arguments: [Argument]?
        var subcommands: [Command]?
    }
    var command: Command
}
