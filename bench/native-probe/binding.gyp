{
  "targets": [{
    "target_name": "probe",
    "sources": ["probe.cc"],
    "cflags_cc": ["-O2", "-std=c++17", "-fno-exceptions"]
  }]
}
