// The package and trimming tests build with the dotnet CLI, and the telemetry tests listen to process-wide sources:
// run the classes one after another so builds never race on the same files and listeners see only their own calls.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
