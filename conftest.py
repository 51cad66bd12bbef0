# The verification harness lives in tests/harness/; this file only loads it for the whole tree,
# so that the pages under docs/ are collected as tests next to tests/.
pytest_plugins = ["tests.harness.plugin"]
