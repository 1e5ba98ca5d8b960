import Core
import Distributed
import Foundation

/// Loads a checkpoint into `network` (and `optimizer`): rank 0 reads the
/// file and sends its bytes to every rank, so the hosts need no shared file
/// system.
func loadCheckpoint(_ path: String, into network: Network, optimizer: Optimizer?,
                    _ communicator: Communicator) throws -> TrainingState? {
    var bytes: [UInt8] = []
    var readError = ""
    if communicator.rank == 0 {
        do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            readError = "cannot read checkpoint \(path): \(error.localizedDescription)"
        }
    }
    var failed: [UInt8] = Array(readError.utf8)
    communicator.broadcast(&failed, root: 0)
    guard failed.isEmpty else { throw RunError(description: String(decoding: failed, as: UTF8.self)) }
    communicator.broadcast(&bytes, root: 0)
    do {
        return try Checkpoint.load(Data(bytes), name: path, into: network, optimizer: optimizer)
    } catch let error as CheckpointError {
        throw RunError(description: error.description)
    } catch let error as SafeTensorsError {
        throw RunError(description: error.description)
    }
}

/// The run arguments the checkpoint at `path` records: none for a `.pth`
/// (the flags, or the original's defaults, say what the model is). Errors
/// name `flag`, the option that gave the path.
func recordedArguments(of path: String, flag: String) throws -> RunArguments {
    do {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe)
        return TorchCheckpoint.isTorchFile(data) ? RunArguments()
            : try RunArguments.recorded(in: SafeTensorsFile(data: data, name: path).metadata, file: path)
    } catch let error as SafeTensorsError {
        throw RunError(description: "\(flag): \(error.description)")
    } catch let error as CheckpointError {
        throw RunError(description: "\(flag): \(error.description)")
    } catch {
        throw RunError(description: "\(flag) \(path): cannot read it (\(error.localizedDescription))")
    }
}

/// A setting of a command that reads a checkpoint: the flag's `value`, else
/// what the `recorded` arguments of the checkpoint at `path` (given by
/// `flag`) hold under `key`, read by `parse`. With neither it fails naming
/// `name`, the flag to pass.
func setting<Value>(_ value: Value?, recorded key: String, in recorded: RunArguments,
                    checkpoint path: String?, flag: String, pass name: String,
                    parse: (String) -> Value?) throws -> Value {
    if let value { return value }
    if let value = recorded[key].flatMap(parse) { return value }
    throw RunError(description: path.map { "\(flag) \($0) does not record \(key); pass \(name)" } ?? "without \(flag), pass \(name)")
}

/// `setting` of a text value.
func setting(_ value: String?, recorded key: String, in recorded: RunArguments,
             checkpoint path: String?, flag: String, pass name: String) throws -> String {
    try setting(value, recorded: key, in: recorded, checkpoint: path, flag: flag, pass: name, parse: { $0 })
}
