import Foundation

/// The embedded default dataset: 1,797 8×8 handwritten digits (values
/// 0…16, 10 classes), the UCI "Optical Recognition of Handwritten Digits"
/// test set (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0) in the copy that
/// scikit-learn ships as `digits.csv.gz` — see Data/Resources/DIGITS-README.md.
///
/// Split: stratified 80/20, fixed for every run (independent of `-seed`):
/// within each class the images are ordered by a RandomStream permutation
/// with seed 0 and the first ⌊0.8·n⌋ of each class train.
public enum Digits {
    public static func load() throws -> (train: ImageSet, test: ImageSet) {
        let all = try parse(Gzip.decompress(Data(PackageResources.digits_csv_gz), name: "embedded digits.csv.gz"))
        var train: [Int] = [], test: [Int] = []
        for label in 0..<10 {
            var members = all.labels.indices.filter { all.labels[$0] == label }
            var stream = RandomStream(seed: 0, UInt64(label))
            for i in stride(from: members.count - 1, to: 0, by: -1) {
                members.swapAt(i, stream.integer(below: i + 1))
            }
            let cut = members.count * 8 / 10
            train += members[..<cut]
            test += members[cut...]
        }
        return (all.subset(train.sorted()), all.subset(test.sorted()))
    }

    /// Rows of 64 pixel values then the label.
    static func parse(_ data: Data) throws -> ImageSet {
        guard let text = String(data: data, encoding: .utf8) else { throw DataError("digits.csv: not UTF-8 text") }
        var pixels: [UInt8] = [], labels: [Int] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",")
            guard fields.count == 65, let values = Optional(fields.compactMap { Int($0) }), values.count == 65,
                  values[..<64].allSatisfy({ (0...16).contains($0) }), (0..<10).contains(values[64])
            else { throw DataError("digits.csv line \(number + 1): expected 64 values in 0…16 and a label 0…9") }
            pixels += values[..<64].map { UInt8($0) }
            labels.append(values[64])
        }
        return ImageSet(channels: 1, height: 8, width: 8, pixels: pixels, labels: labels, classes: 10, maxValue: 16)
    }
}
