// The web interface runs in browsers: its files see the DOM's types.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
