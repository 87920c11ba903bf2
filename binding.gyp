{
  "targets": [
    {
      "target_name": "dgram_batch",
      "sources": ["native/dgram-batch.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fvisibility=hidden"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    }
  ]
}
