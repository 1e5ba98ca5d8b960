import ArgumentParser
import Foundation

/// The command line rewritten so that Swift ArgumentParser reads it as the
/// original's argparse does, for every command:
///
/// 1. `-flag=value` (argparse's spelling) becomes `-flag value`;
/// 2. an unambiguous prefix of a single-dash option names it, as argparse
///    allows (`-neuron` → `-neuron_model`, `-loss_l` → `-loss_lambda`);
/// 3. a negative number after an option that takes a value is joined to it,
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
    static func normalised(_ arguments: [String], root: ParsableCommand.Type = CLIFMPI.self) throws -> [String] {
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
            let word = try command.expanded(split[index])
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
    /// Every spelling of each option or flag, one list per argument.
    var spellings: [[String]]

    /// The single-dash spelling `word` abbreviates, when exactly one option or
    /// flag has such a spelling; else `word` itself (exact names win). A prefix
    /// of several is refused, as argparse refuses it.
    func expanded(_ word: String) throws -> String {
        guard word.count > 2, word.hasPrefix("-"), !word.hasPrefix("--"),
              !CommandLineNormalisation.isNegativeNumber(word),
              !valueOptions.contains(word), !flags.contains(word) else { return word }
        let matches = spellings.compactMap { names in
            names.first { $0.count > 2 && !$0.hasPrefix("--") && $0.hasPrefix(word) }
        }
        guard matches.count <= 1 else {
            throw ValidationError("\(word) is ambiguous: it could be \(matches.sorted().joined(separator: ", ")); write more of the name")
        }
        return matches.first ?? word
    }

    init?(_ root: ParsableCommand.Type) {
        guard let info = try? JSONDecoder().decode(ToolDescription.self, from: Data(root._dumpHelp().utf8)) else {
            return nil
        }
        self.init(info.command)
    }

    private init(_ command: ToolDescription.Command) {
        name = command.commandName
        func names(of kind: String) -> Set<String> {
            Set((command.arguments ?? []).filter { $0.kind == kind }.flatMap { ($0.names ?? []).map(\.spelling) })
        }
        valueOptions = names(of: "option")
        flags = names(of: "flag")
        subcommands = (command.subcommands ?? []).map(CommandTree.init)
        self.spellings = (command.arguments ?? []).filter { $0.kind != "positional" }.map { ($0.names ?? []).map(\.spelling) }
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
