import NIOCore

/// One line from an agent, without its newline (and carriage return), or the news that a line
/// went over the limit, after which the connection is read no further.
enum LineFrame: Sendable, Equatable {
    case line(ByteBuffer)
    case tooLong(bytes: Int)
}

/// Splits the byte stream at LF with a hard limit on line length, so that a peer that never sends
/// a newline cannot make the aggregator buffer without bound.
struct LineFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = LineFrame

    let maxLineBytes: Int
    /// Bytes already searched for a newline, so that a long line is scanned once, not once a read.
    private var scanned = 0
    /// Set once a line was too long: everything after it is discarded.
    private var poisoned = false

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if let frame = next(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
            return poisoned ? .needMoreData : .continue
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        if try decode(context: context, buffer: &buffer) == .continue { return .continue }
        if let frame = last(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
        }
        return .needMoreData
    }

    /// The last line at the end of input, without its newline, if any. Pure, for the tests.
    mutating func last(_ buffer: inout ByteBuffer) -> LineFrame? {
        // A last line without its newline still counts: `nc` users end input that way.
        guard !poisoned, buffer.readableBytes > 0, var line = buffer.readSlice(length: buffer.readableBytes) else { return nil }
        if line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        scanned = 0
        // The limit holds for the last line too (found by fuzzing: limit + 1 bytes passed).
        if line.readableBytes > maxLineBytes {
            poisoned = true
            return .tooLong(bytes: line.readableBytes)
        }
        return .line(line)
    }

    /// The next frame in `buffer`, if a whole one is there. Pure, for the tests.
    mutating func next(_ buffer: inout ByteBuffer) -> LineFrame? {
        if poisoned {
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            return nil
        }
        let start = scanned
        let newline: Int? = buffer.withUnsafeReadableBytes { bytes in
            guard start < bytes.count else { return nil }
            return bytes[start...].firstIndex(of: UInt8(ascii: "\n"))
        }
        guard let newline else {
            scanned = buffer.readableBytes
            // One byte more than the limit may be the carriage return of a line of exactly the limit.
            if buffer.readableBytes > maxLineBytes + 1 {
                return poison(&buffer, bytes: buffer.readableBytes)
            }
            return nil
        }
        scanned = 0
        var length = newline
        if length > 0, buffer.getInteger(at: buffer.readerIndex + length - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            length -= 1
        }
        if length > maxLineBytes {
            return poison(&buffer, bytes: length)
        }
        let line = buffer.getSlice(at: buffer.readerIndex, length: length)!
        buffer.moveReaderIndex(forwardBy: newline + 1)
        return .line(line)
    }

    private mutating func poison(_ buffer: inout ByteBuffer, bytes: Int) -> LineFrame {
        poisoned = true
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        return .tooLong(bytes: bytes)
    }
}

/// Gathers the frames of one read cycle into one message, so that the records that arrived
/// together are committed in one transaction and acknowledged together.
final class ReadBatcher: ChannelInboundHandler {
    typealias InboundIn = LineFrame
    typealias InboundOut = [LineFrame]

    private var pending: [LineFrame] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending.append(Self.unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context)
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The decoder hands over a last unterminated line just before it passes on end of input.
        if let event = event as? ChannelEvent, event == .inputClosed { flush(context) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        flush(context)
        context.fireChannelInactive()
    }

    private func flush(_ context: ChannelHandlerContext) {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = []
        context.fireChannelRead(Self.wrapInboundOut(batch))
    }
}

@available(*, unavailable)
extension ReadBatcher: Sendable {}
