// The types only generated code calls live in RpcGen.Generated, out of users' sight; the runtime itself uses them everywhere.
global using RpcGen.Generated;
