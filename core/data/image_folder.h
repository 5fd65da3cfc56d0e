#pragma once
/// @file
/// The files of the image sources, listed without decoding: folders laid out like
/// torchvision's ImageFolder (DIR/<class>/.../<image>, classes sorted by name, labels their
/// index), flat folders of unlabelled images (calibration), and list files of `PATH [LABEL]`
/// lines. Image files are those with torchvision's endings (.jpg, .jpeg, .png, .ppm, .bmp,
/// .pgm, .tif, .tiff, .webp, any case); other files and hidden files are left out.

#include <cstdint>
#include <string>
#include <vector>

namespace ptq {

/// One image file of a source and its label (0 when the source has none).
struct ImageFileEntry {
    std::string path;
    int64_t label = 0;
};

/// The files of an image source, in the order samples are read.
struct ImageListing {
    std::vector<ImageFileEntry> files;
    bool labelled = false;
    std::vector<std::string> classNames;  ///< the class folders' names; empty for flat folders and lists
    std::string name;    ///< for descriptions: "folder DIR", "list FILE"
    std::string origin;  ///< for messages: "the image folder DIR", "the image list FILE"
};

/// The images of @p dir: with sub-folders, one class per sub-folder (sorted by their bytes,
/// like Python's sorted()), images found at any depth below it in sorted order, files beside
/// the class folders left out; without sub-folders, the images in @p dir, unlabelled. Any thread.
/// Throws ptq::Error (InvalidInput) for a missing folder, a file, a folder without images, and
/// class folders without images.
ImageListing listImageFolder(const std::string& dir);

/// The images named by the list file @p path: one `PATH` or `PATH LABEL` per line (paths
/// relative to the list file's folder, no spaces in them; a label is a non-negative integer,
/// given on every line or on none), blank lines and lines starting with # ignored. Any thread.
/// Throws ptq::Error (InvalidInput) for a missing or empty list, a malformed line (with its
/// number), labels on some lines only and a named file that does not exist (with its line).
ImageListing readImageList(const std::string& path);

}  // namespace ptq
