import Foundation

/// The tables `clif-mpi energy` prints: firing rates per neuron layer, energy
/// per synaptic layer, and totals split as the paper reports them.
public struct EnergyReport {
    public let timeSteps: Int
    public let measured: EnergyMeasurement.Result
    var trained: EnergyMeasurement.Pass { measured.trained }
    var trainedNeuron: EnergyModel.Neuron { measured.trainedNeuron }
    var lif: EnergyMeasurement.Pass { measured.lif }

    public init(timeSteps: Int, measured: EnergyMeasurement.Result) {
        self.timeSteps = timeSteps
        self.measured = measured
    }

    func energy(_ layer: MeasuredLayer, _ neuron: EnergyModel.Neuron) -> EnergyModel.Energy {
        EnergyModel.energy(layer.layer, neuron: neuron, timeSteps: timeSteps,
                           inputRate: layer.inputRate, outputRate: layer.outputRate,
                           staticInput: layer.analogInput)
    }

    static func nanojoules(_ pj: Double) -> String { String(format: "%.2f", pj / 1000) }
    static func percent(_ rate: Double) -> String { String(format: "%.2f %%", 100 * rate) }

    static func describe(_ shape: EnergyModel.Shape) -> String {
        switch shape {
        case let .convolution(c, h, w, o, oh, ow, kh, kw): return "conv \(kh)×\(kw) \(c)×\(h)×\(w) → \(o)×\(oh)×\(ow)"
        case let .linear(i, o): return "linear \(i) → \(o)"
        }
    }

    /// Energy per sample of every synaptic layer, one bar each for the trained neuron, LIF and the ANN.
    public func chart(title: String, subtitle: String) -> BarChart {
        let rows = zip(trained.layers, lif.layers).map { a, b in
            (name: a.layer.name, energies: [energy(a, trainedNeuron).total, energy(b, .lif).total, energy(a, .ann).total])
        }
        let names = [trained.neuron, lif.neuron, "ANN"]
        return BarChart(title: title, subtitle: subtitle, valueAxis: "energy per sample (nJ)", categoryAxis: "layer",
                        categories: rows.map(\.name),
                        series: names.indices.map { i in (names[i], rows.map { $0.energies[i] / 1000 }) },
                        format: { String(format: "%.2f", $0) })
    }

    /// The three tables, as `clif-mpi energy` prints them.
    public var text: String {
        var lines: [String] = []
        let own = trained.neuron, other = lif.neuron
        lines.append("\nFiring rates of the neuron layers:\n")
        lines.append("| neuron layer | \(own) | \(other) |")
        lines.append("|---|---|---|")
        for (a, b) in zip(trained.neuronRates, lif.neuronRates) {
            lines.append("| \(a.name) | \(Self.percent(a.rate)) | \(Self.percent(b.rate)) |")
        }
        lines.append("\nEnergy per sample by layer (nJ; fr = spikes per value and step, the first layer reads the analog input):\n")
        lines.append("| layer | shape | fr in (\(own)) | fr out (\(own)) | \(own) | fr in (\(other)) | fr out (\(other)) | \(other) | ANN |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        var totals = [EnergyModel.Energy(), EnergyModel.Energy(), EnergyModel.Energy()]
        for (a, b) in zip(trained.layers, lif.layers) {
            let e = [energy(a, trainedNeuron), energy(b, .lif), energy(a, .ann)]
            for i in 0..<3 { totals[i] = totals[i] + e[i] }
            let inA = a.analogInput ? "1 (analog)" : Self.percent(a.inputRate)
            let inB = b.analogInput ? "1 (analog)" : Self.percent(b.inputRate)
            lines.append("| \(a.layer.name) | \(Self.describe(a.layer.shape)) | \(inA) | \(Self.percent(a.outputRate)) | "
                         + "\(Self.nanojoules(e[0].total)) | \(inB) | \(Self.percent(b.outputRate)) | "
                         + "\(Self.nanojoules(e[1].total)) | \(Self.nanojoules(e[2].total)) |")
        }
        lines.append("\nTotal energy per sample (nJ):\n")
        lines.append("| model | top-1 | operations | addressing | inputs/outputs | parameters | potentials | total | ÷ ANN |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        let rows = [(own, Self.percent(trained.top1), totals[0]), (other, Self.percent(lif.top1), totals[1]),
                    ("ANN", "", totals[2])]
        for (name, accuracy, e) in rows {
            lines.append("| \(name) | \(accuracy) | \(Self.nanojoules(e.operations)) | \(Self.nanojoules(e.addressing)) | "
                         + "\(Self.nanojoules(e.inputsOutputs)) | \(Self.nanojoules(e.parameters)) | "
                         + "\(Self.nanojoules(e.potentials)) | \(Self.nanojoules(e.total)) | "
                         + String(format: "%.3f", totals[2].total > 0 ? e.total / totals[2].total : 0) + " |")
        }
        return lines.joined(separator: "\n")
    }
}
