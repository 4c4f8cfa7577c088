namespace TicketLab.Store;

/// <summary>The experiment store cannot be used as asked: a root that is a file, a folder that cannot be written. The message names the path and the fix.</summary>
public sealed class StoreException(string message, Exception? inner = null) : Exception(message, inner);
