{
  "targets": [
    {
      "target_name": "nettracer",
      "sources": [
        "native/addon.cc",
        "native/address.cc",
        "native/hooks.cc",
        "native/ndjson.cc",
        "native/output_file.cc",
        "native/privileges.cc",
        "native/probe.cc",
        "native/safe_open.cc",
        "native/tracer.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "bpf",
        "bpf/.output"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-fexceptions",
        "-Wall",
        "-Wextra",
        "-Wno-missing-field-initializers",
        "-Wno-unused-parameter"
      ],
      "cflags_cc!": [
        "-fno-exceptions"
      ],
      "libraries": [
        "<!@(pkg-config --libs libbpf)"
      ],
      "cflags": [
        "<!@(pkg-config --cflags libbpf)"
      ]
    },
    {
      "target_name": "nettracer-config-reader",
      "type": "executable",
      "sources": [
        "native/config_reader.cc",
        "native/safe_open.cc"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-Wall",
        "-Wextra",
        "-O2"
      ],
      "cflags_cc!": [
        "-fno-exceptions"
      ]
    }
  ]
}
