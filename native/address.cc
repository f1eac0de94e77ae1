#include "address.h"

#include <linux/types.h>

#include <charconv>
#include <cstring>

extern "C" {
#include "nettracer.h"
}

namespace {

char* Ipv4(char* p, const uint8_t* a) {
  for (int i = 0; i < 4; i++) {
    if (i) *p++ = '.';
    p = std::to_chars(p, p + 3, a[i]).ptr;
  }
  return p;
}

// RFC 5952: lower-case groups without leading zeros, the first longest run
// (>= 2) of zero groups as "::" (test/unit/address.test.ts checks it against
// the URL parser's serialisation).
char* Ipv6(char* p, const uint8_t* a) {
  uint16_t g[8];
  for (int i = 0; i < 8; i++) g[i] = static_cast<uint16_t>(a[2 * i] << 8 | a[2 * i + 1]);
  int best = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i]) {
      i++;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) j++;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best = -1;
  for (int i = 0; i < 8; i++) {
    if (i == best) {
      *p++ = ':';
      *p++ = ':';
      i += best_len - 1;
      continue;
    }
    if (i && i != best + best_len) *p++ = ':';
    p = std::to_chars(p, p + 4, g[i], 16).ptr;
  }
  return p;
}

}  // namespace

bool V4Mapped(const uint8_t* a) {
  for (int i = 0; i < 10; i++)
    if (a[i]) return false;
  return a[10] == 0xff && a[11] == 0xff;
}

bool PairIsIpv4(uint8_t family, const uint8_t* saddr, const uint8_t* daddr) {
  return family == 4 || (V4Mapped(saddr) && V4Mapped(daddr));
}

char* FormatAddress(char* p, const uint8_t* a, bool ipv4, uint8_t family) {
  return ipv4 ? Ipv4(p, a + (family == 4 ? 0 : 12)) : Ipv6(p, a);
}

Napi::Value AddressPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "addressPair(batch, index)");
  }
  Napi::Uint8Array batch = info[0].As<Napi::Uint8Array>();
  size_t at = static_cast<size_t>(info[1].As<Napi::Number>().Uint32Value()) * NT_RECORD_SIZE;
  if (at + NT_RECORD_SIZE > batch.ByteLength()) throw Napi::RangeError::New(env, "addressPair: no such record");
  nt_record r;
  memcpy(&r, batch.Data() + at, sizeof(r));
  const bool ipv4 = PairIsIpv4(r.family, r.saddr, r.daddr);
  char text[48];
  Napi::Array out = Napi::Array::New(env, 3);
  out.Set(0u, ipv4);
  out.Set(1u, Napi::String::New(env, text, FormatAddress(text, r.saddr, ipv4, r.family) - text));
  out.Set(2u, Napi::String::New(env, text, FormatAddress(text, r.daddr, ipv4, r.family) - text));
  return out;
}
