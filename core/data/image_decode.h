#pragma once
/// @file
/// Image files of the image sources (folder:, list:), one at a time: a cheap check of the
/// header and structure (no pixels decoded, except for a JPEG without its end marker), and
/// the decode to 8-bit grey or RGB as torchvision's loader makes them (Pillow's
/// convert("RGB"): alpha dropped, palettes expanded; grey from RGB by ITU-R 601-2 luma, as
/// Pillow's convert("L")). Decoding uses Qt's image readers, one per call, so any number of
/// threads may decode at once. Messages Qt's image plugins (libpng, libjpeg) print while we
/// read are kept from the terminal: the reasons reach the user in our own sentences.

#include "core/data/image_resample.h"

#include <string>

namespace ptq {

/// What a file's header says.
struct ImageProbe {
    int width = 0, height = 0;
    bool grey = false;    ///< stored as grey (decided from the header; palette images count as colour)
    std::string damage;   ///< why the file cannot be used ("it is empty (0 bytes)"), empty when it looks whole
};

/// Reads @p path's header and checks its structure: empty files, files Qt cannot read, PNGs
/// that stop early or fail a chunk CRC, JPEGs that stop before their end marker. Any thread.
ImageProbe probeImage(const std::string& path);

/// Decodes @p path to @p channels (1 or 3) interleaved 8-bit channels. Returns false and sets
/// @p why (a reason for a sentence, e.g. "Unable to read image data") when the file does not
/// decode. Any thread.
bool decodeImage(const std::string& path, int channels, Image8& out, std::string& why);

/// The file-name endings image sources take (torchvision's IMG_EXTENSIONS), lower case with
/// the dot: ".jpg", ".jpeg", ".png", ...
bool hasImageExtension(const std::string& name);

}  // namespace ptq
