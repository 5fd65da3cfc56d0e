#include "core/graph/pickle_scan.h"

namespace ptq {

namespace {

uint64_t littleEndian(const uint8_t* p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

}  // namespace

std::string findPickleDamage(const uint8_t* data, size_t size) {
    size_t at = 0;
    // Opcodes with a fixed-size argument: their argument's byte count.
    auto fixedArgument = [](uint8_t op) -> int {
        switch (op) {
        case 0x80: return 1;  // PROTO
        case 'K': return 1;   // BININT1
        case 'M': return 2;   // BININT2
        case 'J': return 4;   // BININT
        case 'G': return 8;   // BINFLOAT
        case 'h': return 1;   // BINGET
        case 'q': return 1;   // BINPUT
        case 0x82: return 1;  // EXT1
        case 0x83: return 2;  // EXT2
        case 0x84: return 4;  // EXT4
        case '(': case '.': case '0': case '1': case '2': case 'N': case 0x88: case 0x89: case 't':
        case 0x85: case 0x86: case 0x87: case ')': case ']': case '}': case 'a': case 'e': case 's':
        case 'u': case 'b': case 'R': case 0x93: case 'Q': case 0x81: case 0x8f: case 0x90: case 0x91:
        case 0x92: case 0x94: case 'l': case 'd': case 'o': case 0x97: case 0x98:
            return 0;
        default: return -1;
        }
    };
    while (at < size) {
        const uint8_t op = data[at];
        const size_t start = at++;
        const size_t left = size - at;
        auto damaged = [&](const std::string& what) {
            return what + " (byte " + std::to_string(start) + ")";
        };
        if (op == '.') return {};  // STOP
        if (const int n = fixedArgument(op); n >= 0) {
            if (size_t(n) > left) return damaged("an opcode cut off by the end of the stream");
            at += size_t(n);
            continue;
        }
        switch (op) {
        case 'X': case 'B':   // BINUNICODE, BINBYTES: 4-byte length
        case 0x8d: case 0x8e: case 0x96:  // BINUNICODE8, BINBYTES8, BYTEARRAY8: 8-byte length
        case 0x8c: case 'C': case 'U':    // SHORT_BINUNICODE, SHORT_BINBYTES, SHORT_BINSTRING
        case 'T':                         // BINSTRING
        case 0x8a: case 0x8b: {           // LONG1, LONG4
            const int bytes = (op == 'X' || op == 'B' || op == 'T' || op == 0x8b) ? 4
                              : (op == 0x8c || op == 'C' || op == 'U' || op == 0x8a) ? 1 : 8;
            if (size_t(bytes) > left) return damaged("a length cut off by the end of the stream");
            const uint64_t length = littleEndian(data + at, bytes);
            at += size_t(bytes);
            if (length > size - at)
                return damaged("a record of " + std::to_string(length) + " bytes where " + std::to_string(size - at) +
                               " remain");
            at += size_t(length);
            break;
        }
        case 'r': case 'j': {  // LONG_BINPUT, LONG_BINGET: 4-byte memo index
            if (left < 4) return damaged("a memo index cut off by the end of the stream");
            const uint64_t index = littleEndian(data + at, 4);
            at += 4;
            // Each memo entry is put by an opcode of its own, so a stream of N bytes fills fewer
            // than N entries.
            if (index >= size)
                return damaged("a memo index of " + std::to_string(index) + " in a stream of " + std::to_string(size) +
                               " bytes");
            break;
        }
        case 0x95:  // FRAME: 8-byte length of the frame that follows
            if (left < 8) return damaged("a frame length cut off by the end of the stream");
            if (littleEndian(data + at, 8) > left - 8) return damaged("a frame longer than the stream");
            at += 8;
            break;
        case 'c': case 'i': case 'I': case 'L': case 'S': case 'V': case 'F': case 'P': case 'g': case 'p': {
            // Newline-terminated arguments (GLOBAL and INST take two lines).
            const int lines = (op == 'c' || op == 'i') ? 2 : 1;
            for (int line = 0; line < lines; ++line) {
                while (at < size && data[at] != '\n') ++at;
                if (at == size) return damaged("a text argument without its end of line");
                ++at;
            }
            break;
        }
        default:
            return {};  // an opcode this walk does not know: LibTorch decides
        }
    }
    return {};  // no STOP: LibTorch reports the cut stream itself
}

}  // namespace ptq
