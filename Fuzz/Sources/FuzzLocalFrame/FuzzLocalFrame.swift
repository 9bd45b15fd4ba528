// Fuzz target: the local frame decoder (node → busd byte stream).
//
// Input: the first byte seeds the chunk sizes; the rest is the byte stream,
// appended to one decoder in chunks of 1...64 bytes with `next()` drained
// after each chunk, as NodeConnection does after each read. Every decoded
// frame is re-encoded and decoded again: it must come back equal.

import LocalProtocol

// Exported too: libFuzzer's runtime refers to the symbol.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLocalFrame(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    var chunkState = UInt32(input[0]) | 1
    var decoder = LocalFrameDecoder()
    var position = 1
    while position < input.count {
        // A small xorshift picks the chunk sizes: deterministic per input.
        chunkState ^= chunkState << 13
        chunkState ^= chunkState >> 17
        chunkState ^= chunkState << 5
        let chunk = min(Int(chunkState % 64) + 1, input.count - position)
        decoder.append(UnsafeBufferPointer(rebasing: input[position..<(position + chunk)]))
        position += chunk
        do {
            while let frame = try decoder.next() { checkRoundTrip(frame) }
        } catch {
            // A malformed stream closes the connection: the decoder is done.
            return 0
        }
    }
    return 0
}

private func checkRoundTrip(_ frame: LocalFrame) {
    var again = LocalFrameDecoder()
    // What decoded fits the protocol's limits, so it must encode again.
    do {
        again.append(try frame.encoded)
    } catch {
        fatalError("decoded \(frame.name) does not encode again: \(error)")
    }
    let decoded: LocalFrame?
    do {
        decoded = try again.next()
    } catch {
        fatalError("re-encoded \(frame.name) does not decode: \(error)")
    }
    guard decoded == frame, again.bufferedCount == 0 else {
        fatalError("re-encoded \(frame.name) decodes differently: \(String(describing: decoded))")
    }
}
