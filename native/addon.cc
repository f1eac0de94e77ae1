// Module entry: the tracer, the NDJSON encoder, the hook table and probe, and
// the clock offset records need.
#include <napi.h>
#include <time.h>

#include "address.h"
#include "ndjson.h"
#include "output_file.h"
#include "probe.h"
#include "tracer.h"

// Realtime minus boottime, in ms: BPF stamps records with CLOCK_BOOTTIME
// (monotonic across suspend); JS adds this to print wall-clock times.
static Napi::Value BootToRealtimeMs(const Napi::CallbackInfo& info) {
  struct timespec rt, bt;
  clock_gettime(CLOCK_REALTIME, &rt);
  clock_gettime(CLOCK_BOOTTIME, &bt);
  double ms = (rt.tv_sec - bt.tv_sec) * 1e3 + (rt.tv_nsec - bt.tv_nsec) / 1e6;
  return Napi::Number::New(info.Env(), ms);
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Tracer", Tracer::Define(env));
  exports.Set("NdjsonEncoder", NdjsonEncoder::Define(env));
  exports.Set("encodeStops", NdjsonEncoder::Stops(env));
  exports.Set("bootToRealtimeMs", Napi::Function::New(env, BootToRealtimeMs));
  exports.Set("probe", Napi::Function::New(env, Probe));
  exports.Set("hookTable", Napi::Function::New(env, HookTable));
  exports.Set("addressPair", Napi::Function::New(env, AddressPair));
  exports.Set("openOutput", Napi::Function::New(env, OpenOutput));
  return exports;
}

NODE_API_MODULE(nettracer, Init)
