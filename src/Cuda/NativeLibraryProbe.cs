using System.Runtime.InteropServices;

namespace NeuralTangents.Cuda;

/// <summary>
/// Finds a native library by trying several file names in several places. Never throws: CUDA is optional and a
/// missing library must surface as a reason string, not as a type-load failure.
/// </summary>
internal static class NativeLibraryProbe
{
    /// <summary>Environment variable with extra folders (path-separator separated) searched first.</summary>
    internal const string PathVariable = "NEURALTANGENTS_CUDA_PATH";

    /// <summary>Loads the first of <paramref name="names"/> found; <paramref name="loadedFrom"/> is the name or path that worked.</summary>
    internal static bool TryLoad(IReadOnlyList<string> names, out IntPtr handle, out string loadedFrom)
    {
        foreach (var dir in SearchFolders(first: true))
            foreach (var name in names)
                if (TryLoadPath(Path.Combine(dir, name), out handle)) { loadedFrom = Path.Combine(dir, name); return true; }
        // Bare names go through the OS loader (LD_LIBRARY_PATH, ldconfig cache, PATH on Windows).
        foreach (var name in names)
            if (NativeLibrary.TryLoad(name, out handle)) { loadedFrom = name; return true; }
        foreach (var dir in SearchFolders(first: false))
            foreach (var name in names)
                if (TryLoadPath(Path.Combine(dir, name), out handle)) { loadedFrom = Path.Combine(dir, name); return true; }
        handle = IntPtr.Zero;
        loadedFrom = "";
        return false;
    }

    private static bool TryLoadPath(string path, out IntPtr handle)
    {
        handle = IntPtr.Zero;
        return File.Exists(path) && NativeLibrary.TryLoad(path, out handle);
    }

    /// <summary>Folders from <see cref="PathVariable"/> (first) or the usual toolkit locations (after the OS loader).</summary>
    private static IEnumerable<string> SearchFolders(bool first)
    {
        if (first)
        {
            var extra = Environment.GetEnvironmentVariable(PathVariable);
            if (string.IsNullOrWhiteSpace(extra)) yield break;
            foreach (var d in extra.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                yield return d;
            yield break;
        }
        foreach (var v in new[] { "CUDA_PATH", "CUDA_HOME", "CUDA_ROOT" })
        {
            var root = Environment.GetEnvironmentVariable(v);
            if (string.IsNullOrWhiteSpace(root)) continue;
            if (OperatingSystem.IsWindows())
            {
                yield return Path.Combine(root, "bin");
                yield return Path.Combine(root, "bin", "x64");
            }
            else
            {
                yield return Path.Combine(root, "lib64");
                yield return Path.Combine(root, "lib");
            }
        }
        if (OperatingSystem.IsLinux())
        {
            yield return "/usr/local/cuda/lib64";
            yield return "/usr/local/cuda/targets/x86_64-linux/lib";
            yield return "/usr/local/cuda/targets/sbsa-linux/lib";
        }
    }

    /// <summary>The export <paramref name="name"/>, or zero when absent.</summary>
    internal static IntPtr Export(IntPtr library, string name) =>
        NativeLibrary.TryGetExport(library, name, out var p) ? p : IntPtr.Zero;

    /// <summary>Puts the names containing <paramref name="preferred"/> first, keeping the order otherwise.</summary>
    internal static string[] Prefer(IEnumerable<string> names, string? preferred) =>
        preferred is null ? names.ToArray() : names.OrderBy(n => n.Contains(preferred, StringComparison.Ordinal) ? 0 : 1).ToArray();
}
