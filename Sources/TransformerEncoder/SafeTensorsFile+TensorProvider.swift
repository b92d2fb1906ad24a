import SafeTensors

/// A validated safetensors checkpoint serves BERT weights directly: F32 tensors are
/// views into the mapped file, F16/BF16 ones are widened once at load.
extension SafeTensorsFile: TensorProvider {
    public var tensorNames: [String] { tensors.map(\.name) }
}
