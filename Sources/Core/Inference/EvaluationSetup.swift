import Foundation

/// What an evaluation pass of `infer` or `energy` reads: the test set, the
/// batch, the loss and precision, and this process's shard and reducer.
public struct EvaluationSetup {
    public var data: LoadedDataset
    public var batchSize: Int
    public var timeSteps: Int
    public var loss: LossConfig
    public var precision: Precision
    public var shard: Shard
    public var reducer: BatchReducer

    public init(data: LoadedDataset, batchSize: Int, timeSteps: Int, loss: LossConfig = LossConfig(),
                precision: Precision = .fp32, shard: Shard = Shard(), reducer: BatchReducer = LocalReducer()) {
        self.data = data; self.batchSize = batchSize; self.timeSteps = timeSteps
        self.loss = loss; self.precision = precision; self.shard = shard; self.reducer = reducer
    }
}
