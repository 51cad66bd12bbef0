"""The engine that verifies the site: pages, diagrams, the reader's view."""
