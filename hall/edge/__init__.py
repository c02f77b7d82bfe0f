"""What every request handler shares, core routes and operations alike: the one body parser,
the one JSON answer, the one way to run a hall write from a request and publish it, and the one
template environment of the server-rendered pages."""
