/// A problem with an encoder's files or input: a missing or corrupt model file, a vocabulary that cannot be read.
/// The message names the file and, for a missing model, the set-up command that fetches it.
public struct EncoderError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
