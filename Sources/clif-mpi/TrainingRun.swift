import ArgumentParser
import Core
import Distributed
import Foundation

/// Everything `clif-mpi train` does once its flags are valid.
struct TrainingRun {
    let arguments: Train

    /// The engine's view of the run, checkpoints in `folder`.
    func setup(folder: URL) -> TrainingJob.Setup {
        let a = arguments
        return TrainingJob.Setup(
            dataset: a.dataset, dataDirectory: URL(fileURLWithPath: a.dataDir), split: a.splitBy,
            cutupmixAuto: a.cutupmixAuto, model: a.model, activation: a.activation, dropRate: a.dropRate,
            options: a.options, chunkSamples: a.chunkSamples, arguments: a.checkpointArguments, resume: a.resume,
            preTrain: a.preTrain, saveInitial: a.saveInit, checkEvery: a.checkEvery,
            checkpoints: CheckpointPolicy(folder: folder, optimizerName: a.opt.spelling))
    }

    /// Trains, on this process alone or as one rank of an MPI job.
    func execute(in session: Session) throws {
        func say(_ line: String) { if session.isLeader { print(line) } }
        session.configureWorkers(arguments.threads)
        let output = OutputFolder(url: URL(fileURLWithPath: arguments.outDir).appendingPathComponent(arguments.runFolderName),
                                  flagValue: arguments.outDir)
        if session.isLeader { try output.prepare() }
        let job = try makeJob(folder: output.url, session: session)
        if session.isLeader { try output.checkSpace(checkpointBytes: job.checkpointBytes) }
        try job.restore(note: { print($0) })
        if session.isLeader { try output.writeArguments(arguments.namespaceText) }
        let data = job.data
        say("\(arguments.model) (\(job.network.parameters.count) parameters), \(arguments.neuronModel.spelling), T=\(job.options.timeSteps), dataset \(data.name): \(data.train.count) train / \(data.test.count) test images of \(data.channels)×\(data.height)×\(data.width), \(session.size) process\(session.size == 1 ? "" : "es")")
        let signals = StopSignals()
        let outcome = try job.train(events(signals: signals, processes: session.size))
        if outcome.stoppedOnRequest, let signal = signals.received {
            // The shell's convention for a process ended by a signal.
            throw ExitCode(128 + signal)
        }
        say("max_test_acc=\(outcome.state.maxTestAccuracy), steps=\(outcome.state.globalStep), run folder \(output.url.path)")
    }

    /// Loads the data and builds the model, the errors worded with their flags.
    func makeJob(folder: URL, session: Session) throws -> TrainingJob {
        do {
            return try TrainingJob(setup(folder: folder), session: session, datasetNote: {
                print("-dataset \(arguments.dataset): \($0)")
                fflush(stdout)
            })
        } catch let error as DataError {
            throw RunError(description: "-dataset \(arguments.dataset): \(error.description)")
        } catch let error as ModelError {
            throw RunError(description: error.description)
        }
    }

    /// What rank 0 prints while the run trains: progress, skipped steps,
    /// a line per epoch, where a stopped run resumes.
    func events(signals: StopSignals, processes: Int) -> TrainingEvents {
        let progress = ProgressDisplay()
        return TrainingEvents(
            batch: { progress.show($0) },
            batchesEnded: { progress.finish() },
            skippedStep: { print("skipped a step with non-finite values (--on-nan skip) at \($0)") },
            epoch: { print($0.line) },
            stopped: { print(TrainingEvents.stopLine($0, onRequest: $1)) },
            stopRequested: { signals.received != nil })
    }
}
