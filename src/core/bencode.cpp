#include "btl/core/bencode.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

namespace btl {

// ---- decoding --------------------------------------------------------------

namespace {

struct Frame {
    uint32_t tok;        // index of the container token
    uint32_t last_child; // index of the previous child (to link `next`), or 0
    bool is_dict;
    bool expect_key;     // dict: the next item must be a key
    bool sorted;         // dict: keys seen so far are strictly increasing
    uint32_t prev_key;   // dict: token index of the previous key
};

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

struct BDecoder {
    static Result<BDoc> run(std::string_view buf, size_t& used, bool whole, const DecodeLimits& lim);
};

Result<BDoc> BDecoder::run(std::string_view buf, size_t& used, bool whole, const DecodeLimits& lim) {
    if (buf.size() > lim.max_size)
        return make_error("input of " + std::to_string(buf.size()) + " bytes exceeds the limit of " +
                              std::to_string(lim.max_size),
                          0);
    if (buf.size() >= std::numeric_limits<uint32_t>::max())
        return make_error("input too large", 0);
    if (buf.empty()) return make_error("empty input", 0);

    BDoc doc;
    auto& toks = doc.toks_;
    toks.clear();
    std::vector<Frame> stack;
    stack.reserve(16);
    const char* p = buf.data();
    const size_t n = buf.size();
    size_t pos = 0;

    auto fail = [&](const std::string& why, size_t at) -> Result<BDoc> {
        return make_error(why, at);
    };

    // Checks the keys of a finished, unsorted dict for duplicates.
    auto check_dup_keys = [&](uint32_t dict_tok) -> size_t {
        std::vector<std::pair<std::string_view, uint32_t>> keys;
        uint32_t i = dict_tok + 1;
        const uint32_t stop = toks[dict_tok].next;
        while (i < stop && i < toks.size()) {
            const auto& k = toks[i];
            keys.emplace_back(std::string_view(p + k.count, k.end - k.count), k.start);
            i = toks[toks[i].next].next;  // skip key then its value
        }
        std::sort(keys.begin(), keys.end());
        for (size_t j = 1; j < keys.size(); ++j)
            if (keys[j].first == keys[j - 1].first) return std::max(keys[j].second, keys[j - 1].second);
        return SIZE_MAX;
    };

    for (;;) {
        if (pos >= n) return fail("truncated input", pos);
        const char c = p[pos];

        if (c == 'e') {
            if (stack.empty()) return fail("unexpected 'e'", pos);
            Frame& f = stack.back();
            if (f.is_dict && !f.expect_key) return fail("dictionary key without a value", pos);
            ++pos;
            auto& t = toks[f.tok];
            t.end = static_cast<uint32_t>(pos);
            t.next = static_cast<uint32_t>(toks.size());
            if (f.is_dict) {
                if (!f.sorted) {
                    size_t at = check_dup_keys(f.tok);
                    if (at != SIZE_MAX) return fail("duplicate dictionary key", at);
                }
            }
            stack.pop_back();
            if (stack.empty()) break;
            continue;
        }

        if (toks.size() >= lim.max_tokens)
            return fail("too many items (limit " + std::to_string(lim.max_tokens) + ")", pos);

        Frame* parent = stack.empty() ? nullptr : &stack.back();
        const bool is_key = parent && parent->is_dict && parent->expect_key;
        if (is_key && !is_digit(c)) return fail("dictionary key is not a string", pos);

        const uint32_t idx = static_cast<uint32_t>(toks.size());
        toks.push_back(BDoc::Token{static_cast<uint32_t>(pos), 0, 0, 0, 0, BType::none});
        if (parent) {
            if (parent->last_child) toks[parent->last_child].next = idx;
            parent->last_child = idx;
            if (parent->is_dict) {
                if (!is_key) ++toks[parent->tok].count;
                parent->expect_key = !parent->expect_key;
            } else {
                ++toks[parent->tok].count;
            }
        }

        if (c == 'i') {
            size_t q = pos + 1;
            bool neg = false;
            if (q < n && p[q] == '-') { neg = true; ++q; }
            size_t digits_at = q;
            while (q < n && is_digit(p[q])) ++q;
            if (q >= n) return fail("truncated integer", pos);
            if (p[q] != 'e') return fail("invalid character in integer", q);
            if (q == digits_at) return fail("integer without digits", pos);
            if (p[digits_at] == '0' && q - digits_at > 1) return fail("integer with leading zero", pos);
            if (neg && p[digits_at] == '0') return fail("negative zero", pos);
            // Parse magnitude as unsigned to allow INT64_MIN.
            uint64_t mag = 0;
            auto [ptr, ec] = std::from_chars(p + digits_at, p + q, mag);
            if (ec != std::errc() || ptr != p + q) return fail("integer overflow", pos);
            int64_t v;
            if (neg) {
                if (mag > uint64_t(std::numeric_limits<int64_t>::max()) + 1) return fail("integer overflow", pos);
                v = mag == uint64_t(std::numeric_limits<int64_t>::max()) + 1
                        ? std::numeric_limits<int64_t>::min()
                        : -static_cast<int64_t>(mag);
            } else {
                if (mag > uint64_t(std::numeric_limits<int64_t>::max())) return fail("integer overflow", pos);
                v = static_cast<int64_t>(mag);
            }
            auto& t = toks[idx];
            t.type = BType::integer;
            t.value = v;
            pos = q + 1;
            t.end = static_cast<uint32_t>(pos);
            t.next = idx + 1;
        } else if (is_digit(c)) {
            size_t q = pos;
            while (q < n && is_digit(p[q])) ++q;
            if (q >= n) return fail("truncated string length", pos);
            if (p[q] != ':') return fail("invalid character in string length", q);
            if (p[pos] == '0' && q - pos > 1) return fail("string length with leading zero", pos);
            uint64_t len = 0;
            auto [ptr, ec] = std::from_chars(p + pos, p + q, len);
            if (ec != std::errc() || ptr != p + q) return fail("string length overflow", pos);
            const size_t start = q + 1;
            if (len > n - start)
                return fail("string of length " + std::to_string(len) + " runs past the end of the input", pos);
            auto& t = toks[idx];
            t.type = BType::string;
            t.count = static_cast<uint32_t>(start);
            pos = start + static_cast<size_t>(len);
            t.end = static_cast<uint32_t>(pos);
            t.next = idx + 1;
            if (is_key) {
                Frame& f = stack.back();
                if (f.prev_key && f.sorted) {
                    const auto& pk = toks[f.prev_key];
                    std::string_view prev(p + pk.count, pk.end - pk.count);
                    std::string_view cur(p + start, static_cast<size_t>(len));
                    if (cur == prev) return fail("duplicate dictionary key", toks[idx].start);
                    if (cur < prev) f.sorted = false;
                }
                f.prev_key = idx;
            }
        } else if (c == 'l' || c == 'd') {
            if (stack.size() >= lim.max_depth)
                return fail("nesting deeper than " + std::to_string(lim.max_depth), pos);
            auto& t = toks[idx];
            t.type = c == 'l' ? BType::list : BType::dict;
            ++pos;
            stack.push_back(Frame{idx, 0, c == 'd', true, true, 0});
            continue;
        } else {
            return fail(std::string("invalid character '") +
                            (c >= 32 && c < 127 ? std::string(1, c) : "\\x" + [&] {
                                static const char h[] = "0123456789abcdef";
                                return std::string{h[(unsigned char)c >> 4], h[c & 15]};
                            }()) +
                            "'",
                        pos);
        }
        if (stack.empty()) break;
    }
    if (whole && pos != n) return fail("trailing data after the end of the document", pos);
    used = pos;
    doc.buf_ = buf;
    return doc;
}

Result<BDoc> decode(std::string_view buf, const DecodeLimits& lim) {
    size_t used = 0;
    return BDecoder::run(buf, used, true, lim);
}

Result<BDoc> decode_prefix(std::string_view buf, size_t& used, const DecodeLimits& lim) {
    return BDecoder::run(buf, used, false, lim);
}

// ---- BNode ----------------------------------------------------------------

BType BNode::type() const { return doc_ ? doc_->toks_[idx_].type : BType::none; }

int64_t BNode::int_value() const { return is_int() ? doc_->toks_[idx_].value : 0; }

std::string_view BNode::string() const {
    if (!is_string()) return {};
    const auto& t = doc_->toks_[idx_];
    return doc_->buf_.substr(t.count, t.end - t.count);
}

std::string_view BNode::raw() const {
    if (!doc_) return {};
    const auto& t = doc_->toks_[idx_];
    return doc_->buf_.substr(t.start, t.end - t.start);
}

size_t BNode::offset() const { return doc_ ? doc_->toks_[idx_].start : 0; }

size_t BNode::size() const {
    if (!is_list() && !is_dict()) return 0;
    return doc_->toks_[idx_].count;
}

BNode BNode::at(size_t i) const {
    if (!is_list()) return {};
    for (BNode e : list_items()) {
        if (i == 0) return e;
        --i;
    }
    return {};
}

BNode BNode::find(std::string_view key) const {
    if (!is_dict()) return {};
    for (auto [k, v] : dict_items())
        if (k == key) return v;
    return {};
}

BNode BNode::find_dict(std::string_view key) const {
    BNode n = find(key);
    return n.is_dict() ? n : BNode();
}
BNode BNode::find_list(std::string_view key) const {
    BNode n = find(key);
    return n.is_list() ? n : BNode();
}
BNode BNode::find_string(std::string_view key) const {
    BNode n = find(key);
    return n.is_string() ? n : BNode();
}
BNode BNode::find_int(std::string_view key) const {
    BNode n = find(key);
    return n.is_int() ? n : BNode();
}

BNode::ListRange BNode::list_items() const {
    ListRange r{};
    if (!is_list()) return r;
    const auto& t = doc_->toks_[idx_];
    r.b_.n = BNode(doc_, idx_ + 1);
    r.e_.n = BNode(doc_, t.next);
    return r;
}

BNode::ListRange::It& BNode::ListRange::It::operator++() {
    n.idx_ = n.doc_->toks_[n.idx_].next;
    return *this;
}

BNode::DictRange BNode::dict_items() const {
    DictRange r{};
    if (!is_dict()) return r;
    const auto& t = doc_->toks_[idx_];
    r.b_.k = BNode(doc_, idx_ + 1);
    r.e_.k = BNode(doc_, t.next);
    return r;
}

std::pair<std::string_view, BNode> BNode::DictRange::It::operator*() const {
    const auto& kt = k.doc_->toks_[k.idx_];
    return {k.string(), BNode(k.doc_, kt.next)};
}

BNode::DictRange::It& BNode::DictRange::It::operator++() {
    const auto& toks = k.doc_->toks_;
    k.idx_ = toks[toks[k.idx_].next].next;
    return *this;
}

// ---- encoding --------------------------------------------------------------

BEncoder& BEncoder::integer(int64_t v) {
    char tmp[24];
    auto [ptr, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
    (void)ec;
    out_.push_back('i');
    out_.append(tmp, ptr);
    out_.push_back('e');
    return *this;
}

BEncoder& BEncoder::string(std::string_view s) {
    char tmp[24];
    auto [ptr, ec] = std::to_chars(tmp, tmp + sizeof tmp, s.size());
    (void)ec;
    out_.append(tmp, ptr);
    out_.push_back(':');
    out_.append(s);
    return *this;
}

BValue& BValue::operator[](std::string_view key) {
    auto& d = as_dict();
    auto it = d.find(key);
    if (it == d.end()) it = d.emplace(std::string(key), BValue()).first;
    return it->second;
}

void encode_to(std::string& out, const BValue& v) {
    BEncoder e(out);
    switch (v.v.index()) {
        case 0: e.integer(std::get<0>(v.v)); break;
        case 1: e.string(std::get<1>(v.v)); break;
        case 2:
            e.begin_list();
            for (const auto& x : std::get<2>(v.v)) encode_to(out, x);
            e.end();
            break;
        case 3:
            e.begin_dict();
            for (const auto& [k, x] : std::get<3>(v.v)) {
                e.string(k);
                encode_to(out, x);
            }
            e.end();
            break;
    }
}

std::string encode(const BValue& v) {
    std::string out;
    encode_to(out, v);
    return out;
}

BValue to_value(BNode n) {
    switch (n.type()) {
        case BType::integer: return BValue(n.int_value());
        case BType::string: return BValue(n.string());
        case BType::list: {
            BValue::List l;
            l.reserve(n.size());
            for (BNode e : n.list_items()) l.push_back(to_value(e));
            return BValue(std::move(l));
        }
        case BType::dict: {
            BValue::Dict d;
            for (auto [k, v] : n.dict_items()) d.emplace(std::string(k), to_value(v));
            return BValue(std::move(d));
        }
        case BType::none: break;
    }
    return BValue();
}

}  // namespace btl
