@_exported public import Durations
