extension CaseIterable where Self: RawRepresentable, RawValue == String {
    /// The case whose raw value is `name` in any letter case: `-opt adamw`
    /// and `-neuron_model lif` name `AdamW` and `LIF`.
    public init?(caseInsensitive name: String) {
        let lowered = name.lowercased()
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == lowered }) else { return nil }
        self = match
    }
}
