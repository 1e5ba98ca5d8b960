/// A split a `BatchSource` can cut into batches: static images (`ImageSet`,
/// repeated over the time steps by the network input) or per-sample event
/// frames (`FrameSet`, one frame per time step).
public protocol SampleSet: Sendable {
    var count: Int { get }
    var labels: [Int] { get }
    var classes: Int { get }
    var channels: Int { get }
    var height: Int { get }
    var width: Int { get }
    /// Frames each sample brings (its time steps); nil for a static image.
    var framesPerSample: Int? { get }
    /// Writes sample `index`, augmented with draws from `stream` and
    /// normalised, into `out`: `[C, H, W]`, or `[T, C, H, W]` for frames.
    func prepare(_ index: Int, augmentation: Augmentation, normalization: Normalization,
                 stream: inout RandomStream, into out: UnsafeMutablePointer<Float>)
}

extension SampleSet {
    /// Values of one prepared sample.
    public var preparedSize: Int { (framesPerSample ?? 1) * channels * height * width }
}

extension ImageSet: SampleSet {
    public var framesPerSample: Int? { nil }

    public func prepare(_ index: Int, augmentation: Augmentation, normalization: Normalization,
                        stream: inout RandomStream, into out: UnsafeMutablePointer<Float>) {
        ImageTransform.prepare(self, index: index, augmentation: augmentation, normalization: normalization,
                               stream: &stream, into: out)
    }
}
