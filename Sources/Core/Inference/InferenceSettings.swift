import Foundation

/// What `clif-mpi infer` evaluates (each flag, else what the checkpoint
/// records, else inference.py's default), and the names, lines and chart
/// built from it.
public struct InferenceSettings {
    public var model: String, dataset: String, dataDirectory: String
    public var timeSteps: Int, tau: Float
    /// The neuron as given (its spelling names the log folder).
    public var neuron: String
    public var activation: Activation
    /// The neuron the checkpoint was trained with, when it records it.
    public var trainedNeuron: String?

    public init(model: String, dataset: String, dataDirectory: String, timeSteps: Int, tau: Float, neuron: String,
                activation: Activation, trainedNeuron: String?) {
        self.model = model; self.dataset = dataset; self.dataDirectory = dataDirectory
        self.timeSteps = timeSteps; self.tau = tau; self.neuron = neuron
        self.activation = activation; self.trainedNeuron = trainedNeuron
    }

    /// The log folder's name, as inference.py builds it.
    public func folderName(name: String, batchSize: Int, cutupmixAuto: Bool) -> String {
        var folder = "inference_\(dataset)_\(model)_\(name)_T\(timeSteps)_tau\(tau)_bs\(batchSize)"
        if neuron != "LIF" { folder += "_\(neuron)_" }
        folder += "_amp"
        if cutupmixAuto { folder += "_cutupmix_auto" }
        return folder
    }

    /// The line inference.py prints before it counts the parameters.
    public static func familyLine(_ model: String) -> String? {
        if model.hasPrefix("spiking_resnet") { return "using Resnet model." }
        if model.hasPrefix("spiking_vgg") || ["vggsnn", "snn5_noAP"].contains(model) { return "using Spiking VGG model." }
        return nil
    }

    /// The table's title and header lines.
    public func tableHeader(testImages: Int, processes: Int) -> [String] {
        let trained = trainedNeuron.map { " trained with \($0)," } ?? ""
        return ["\(model)\(trained) evaluated with \(neuron), T=\(timeSteps), \(dataset) test set (\(testImages) images), \(processes) process(es)",
                "| neuron | reset | top-1 | top-5 | loss | samples/s |",
                "|---|---|---|---|---|---|"]
    }

    /// One row of the table: a reset setting and its results.
    public func tableRow(_ row: ResetSweep.Row) -> String {
        let label = activation == .relu ? "–" : row.reset.map { "hard \($0)" } ?? "soft"
        let r = row.result
        return String(format: "| %@ | %@ | %.2f %% | %.2f %% | %.4f | %.1f |", neuron, label,
                      100 * r.top1, 100 * r.top5, r.loss, r.samplesPerSecond)
    }

    /// The table as `--plot` draws it: top-1 and top-5 per reset setting.
    public func chart(_ rows: [ResetSweep.Row], testImages: Int, checkpoint: String?) -> BarChart {
        let labels = rows.map { row in
            "\(neuron) " + (activation == .relu ? "(ANN)" : row.reset.map { "hard reset \($0)" } ?? "soft reset")
        }
        let trained = trainedNeuron.map { ", trained with \($0)" } ?? ""
        return BarChart(title: "clif-mpi infer: \(model) on the \(dataset) test set (\(testImages) images)",
                        subtitle: "\(checkpoint.map { "checkpoint \($0)" } ?? "freshly initialised model")\(trained), T=\(timeSteps)",
                        valueAxis: "accuracy on the test set (%)", categoryAxis: "neuron and reset",
                        categories: labels,
                        series: [("top-1", rows.map { 100 * $0.result.top1 }), ("top-5", rows.map { 100 * $0.result.top5 })],
                        format: { String(format: "%.2f %%", $0) })
    }
}
