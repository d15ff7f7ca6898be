import NIOCore
import UsageRecords

/// One line from an agent, without its newline (and carriage return), or the news that a line
/// went over the limit, after which the connection is read no further.
enum LineFrame: Sendable, Equatable {
    case line(ByteBuffer)
    case tooLong(bytes: Int)
}

/// Splits the byte stream into lines by the rule every reader of lines in the project follows
/// (`LineCutter`: LF ends a line, one CR before it is not part of it), with a hard limit on line
/// length, so that a peer that never sends a newline cannot make the aggregator buffer without
/// bound. Here the protocol decides what an overlong line means: it is reported once, and the
/// connection is read no further.
///
/// Lines that lie within one read are handed on as slices of it, without a copy; only the start
/// of a line that continues in the next read is held by the cutter (at most the limit and a byte).
struct LineFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = LineFrame

    let maxLineBytes: Int
    private var cutter: LineCutter
    /// Frames cut and not handed on yet, in order.
    private var ready: [LineFrame] = []
    private var nextReady = 0
    /// Set once a line was too long: everything after it is discarded.
    private var poisoned = false

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
        self.cutter = LineCutter(maximumLineBytes: maxLineBytes)
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        while let frame = next(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
        }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while let frame = next(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
        }
        if let frame = last(&buffer) {
            context.fireChannelRead(Self.wrapInboundOut(frame))
        }
        return .needMoreData
    }

    /// The last line at the end of input, without its newline, if any. Pure, for the tests.
    mutating func last(_ buffer: inout ByteBuffer) -> LineFrame? {
        // Whole lines still in the buffer come first.
        if let frame = next(&buffer) { return frame }
        // A last line without its newline still counts: `nc` users end input that way. The limit
        // holds for it too (found by fuzzing: limit + 1 bytes passed).
        guard !poisoned else { return nil }
        var cutter = takeCutter()
        let frame = cutter.finish { line -> LineFrame in
            line.wasCut ? .tooLong(bytes: line.length) : .line(ByteBuffer(bytes: line.bytes))
        }
        self.cutter = cutter
        if case .tooLong? = frame { poisoned = true }
        return frame
    }

    /// The next frame in `buffer`, if a whole one is there. Pure, for the tests.
    mutating func next(_ buffer: inout ByteBuffer) -> LineFrame? {
        if nextReady < ready.count {
            defer {
                nextReady += 1
                if nextReady == ready.count {
                    ready.removeAll(keepingCapacity: true)
                    nextReady = 0
                }
            }
            return ready[nextReady]
        }
        if poisoned {
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            return nil
        }
        guard buffer.readableBytes > 0 else { return nil }
        cutAll(&buffer)
        return nextReady < ready.count ? next(&buffer) : nil
    }

    /// Cuts everything readable in `buffer` into `ready`, up to and with a line that is too long.
    private mutating func cutAll(_ buffer: inout ByteBuffer) {
        var cutter = takeCutter()
        var frames: [LineFrame] = []
        var tooLong = false
        let readerIndex = buffer.readerIndex
        let chunk = buffer
        chunk.withUnsafeReadableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard let start = bytes.baseAddress else { return }
            _ = cutter.cut(bytes) { line in
                if line.wasCut {
                    frames.append(.tooLong(bytes: line.length))
                    tooLong = true
                    return false
                }
                if let p = line.bytes.baseAddress, p >= start, p < start + bytes.count {
                    frames.append(.line(chunk.getSlice(at: readerIndex + (p - start), length: line.bytes.count)!))
                } else {
                    // The line began in an earlier read; the cutter held its start.
                    frames.append(.line(ByteBuffer(bytes: line.bytes)))
                }
                return true
            }
        }
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        // No need to wait for the newline of a line already too long.
        if !tooLong, cutter.heldLength > maxLineBytes + 1 {
            frames.append(.tooLong(bytes: cutter.heldLength))
            tooLong = true
        }
        if tooLong {
            poisoned = true
            cutter.reset()
        }
        self.cutter = cutter
        ready += frames
    }

    /// The cutter, moved out of `self` so that the closure that receives its lines may change
    /// `self`, and its held bytes are not copied.
    private mutating func takeCutter() -> LineCutter {
        var taken = LineCutter(maximumLineBytes: maxLineBytes)
        swap(&taken, &cutter)
        return taken
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
