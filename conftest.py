# The verification engine lives in verify/; this file only loads its pytest plugin for the whole tree,
# so that the pages under docs/ are collected as tests next to tests/.
pytest_plugins = ["verify.plugin"]
