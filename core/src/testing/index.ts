// `capit/testing`: the conformance kit plugin authors (and the built-ins) run their plugins through.
export {};
