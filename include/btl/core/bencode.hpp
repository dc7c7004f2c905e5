// Bencode (BEP 3): a strict, bounded, zero-copy decoder and an encoder.
//
// decode() makes one pass over the caller's buffer and produces a flat vector
// of tokens that point into it (nothing is copied; the buffer must outlive the
// BDoc).  It is strict where strictness protects us: no leading zeros, no
// "-0", no duplicate dictionary keys, no trailing data, 64-bit overflow
// detected.  Unsorted dictionary keys are accepted because real torrents have
// them and hashes are taken over raw bytes anyway (BNode::raw()).  Depth,
// token count and input size are bounded by DecodeLimits.
//
// Encoding: BEncoder appends to a std::string (fast, for protocol messages);
// BValue is an owning tree whose dictionaries stay sorted, for building
// documents such as .torrent files.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "btl/base/result.hpp"

namespace btl {

enum class BType : uint8_t { none, integer, string, list, dict };

struct DecodeLimits {
    size_t max_size = 100u << 20;    // bytes of input
    uint32_t max_depth = 100;        // nesting of lists/dicts
    uint32_t max_tokens = 4'000'000; // items in the whole document
};

class BDoc;

// A light view of one item in a BDoc.  Copyable; valid while the BDoc and its
// buffer live.  A default or "missing" node has type none.
class BNode {
public:
    BNode() = default;
    BType type() const;
    bool is_int() const { return type() == BType::integer; }
    bool is_string() const { return type() == BType::string; }
    bool is_list() const { return type() == BType::list; }
    bool is_dict() const { return type() == BType::dict; }
    explicit operator bool() const { return type() != BType::none; }

    int64_t int_value() const;          // 0 unless is_int()
    std::string_view string() const;    // empty unless is_string()
    std::string_view raw() const;       // the item's exact bytes in the buffer
    size_t offset() const;              // byte offset of the item

    // Lists and dicts: number of elements (dict: number of key/value pairs).
    size_t size() const;
    // List element i (O(i)); none if out of range or not a list.
    BNode at(size_t i) const;

    // Dict lookup (linear in the dict's size); none when absent.
    BNode find(std::string_view key) const;
    // Convenience typed lookups: none/empty when absent or of another type.
    BNode find_dict(std::string_view key) const;
    BNode find_list(std::string_view key) const;
    BNode find_string(std::string_view key) const;
    BNode find_int(std::string_view key) const;

    // Iterate list elements: for (BNode e : node.list_items()) ...
    // Iterate dict entries: for (auto [k, v] : node.dict_items()) ...
    class ListRange;
    class DictRange;
    ListRange list_items() const;
    DictRange dict_items() const;

private:
    friend class BDoc;
    BNode(const BDoc* d, uint32_t i) : doc_(d), idx_(i) {}
    const BDoc* doc_ = nullptr;
    uint32_t idx_ = 0;
};

class BDoc {
public:
    BNode root() const { return toks_.empty() ? BNode() : BNode(this, 0); }
    std::string_view buffer() const { return buf_; }
    size_t token_count() const { return toks_.size(); }

private:
    friend class BNode;
    friend struct BDecoder;
    struct Token {
        uint32_t start;  // offset of the item's first byte
        uint32_t end;    // offset one past its last byte
        uint32_t next;   // index of the next sibling (skips this subtree)
        uint32_t count;  // string: payload offset; list/dict: elements
        int64_t value;   // integer value
        BType type;
    };
    std::string_view buf_;
    std::vector<Token> toks_;
};

// Decode exactly one item that must span the whole buffer.
Result<BDoc> decode(std::string_view buf, const DecodeLimits& lim = {});
// Decode one item at the start of buf; `used` receives its length.  For
// streams where a bencoded item is followed by other data (BEP 9 metadata).
Result<BDoc> decode_prefix(std::string_view buf, size_t& used, const DecodeLimits& lim = {});

class BNode::ListRange {
public:
    struct It {
        BNode n;
        BNode operator*() const { return n; }
        It& operator++();
        bool operator!=(const It& o) const { return n.idx_ != o.n.idx_; }
    };
    It begin() const { return b_; }
    It end() const { return e_; }
    It b_, e_;
};

class BNode::DictRange {
public:
    struct It {
        BNode k;
        std::pair<std::string_view, BNode> operator*() const;
        It& operator++();
        bool operator!=(const It& o) const { return k.idx_ != o.k.idx_; }
    };
    It begin() const { return b_; }
    It end() const { return e_; }
    It b_, e_;
};

// ---- encoding -------------------------------------------------------------

// Appends bencoded items to a string.  The caller is responsible for putting
// dictionary keys in sorted order.
class BEncoder {
public:
    explicit BEncoder(std::string& out) : out_(out) {}
    BEncoder& integer(int64_t v);
    BEncoder& string(std::string_view s);
    BEncoder& begin_list() { out_.push_back('l'); return *this; }
    BEncoder& begin_dict() { out_.push_back('d'); return *this; }
    BEncoder& end() { out_.push_back('e'); return *this; }
    BEncoder& raw(std::string_view already_encoded) { out_.append(already_encoded); return *this; }

private:
    std::string& out_;
};

// An owning bencode value.  Dictionaries are std::map, so encoding is always
// in sorted key order as BEP 3 requires.
struct BValue {
    using List = std::vector<BValue>;
    using Dict = std::map<std::string, BValue, std::less<>>;
    std::variant<int64_t, std::string, List, Dict> v;

    BValue() : v(int64_t{0}) {}
    BValue(int64_t i) : v(i) {}                          // NOLINT
    BValue(int i) : v(int64_t{i}) {}                     // NOLINT
    BValue(std::string s) : v(std::move(s)) {}           // NOLINT
    BValue(const char* s) : v(std::string(s)) {}         // NOLINT
    BValue(std::string_view s) : v(std::string(s)) {}    // NOLINT
    BValue(List l) : v(std::move(l)) {}                  // NOLINT
    BValue(Dict d) : v(std::move(d)) {}                  // NOLINT

    static BValue list() { return BValue(List{}); }
    static BValue dict() { return BValue(Dict{}); }
    Dict& as_dict() { return std::get<Dict>(v); }
    List& as_list() { return std::get<List>(v); }
    BValue& operator[](std::string_view key);  // dict insert-or-get
};

void encode_to(std::string& out, const BValue& v);
std::string encode(const BValue& v);
// Copy a decoded node into an owning value.
BValue to_value(BNode n);

}  // namespace btl
