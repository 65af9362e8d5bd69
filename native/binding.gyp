{
  "targets": [{
    "target_name": "switchyard_native",
    "sources": ["src/engine.cc", "src/scan.cc", "src/http1.cc", "src/relay.cc", "src/test-hooks.cc"],
    "cflags_cc": ["-O2", "-std=c++17", "-fno-exceptions", "-Wall", "-Wextra"]
  }]
}
