"""The verification engine: parse each page, run its blocks in throwaway spaces, stamp and render it."""
