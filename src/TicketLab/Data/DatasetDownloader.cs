using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace TicketLab.Data;

/// <summary>
/// Downloads a dataset from its official location (or a mirror) into a data root, verifying the
/// MD5 checksum of every downloaded file and extracting tar.gz archives. Everything is first
/// written to a hidden staging folder inside the root and only moved into the dataset's folder
/// (<c>root/SubFolders[0]</c>) once every file has been downloaded and verified, so a failed or
/// mismatching download leaves nothing half-written.
/// </summary>
public sealed class DatasetDownloader
{
    /// <summary>Environment variable with a base URL under which all download file names are served.</summary>
    public const string MirrorEnvironmentVariable = "TICKETLAB_DOWNLOAD_MIRROR";

    private const int CopyBufferSize = 1 << 16;

    private readonly HttpClient http;
    private readonly IReadOnlyDictionary<string, string> baseUrls;
    private readonly Func<string, string?> getEnvironmentVariable;
    private readonly Action<string>? log;

    /// <param name="http">The client used for every request (not disposed by this class).</param>
    /// <param name="baseUrls">Base URL per dataset name, overriding the mirror variable and the official location.</param>
    /// <param name="getEnvironmentVariable">Environment lookup (for <see cref="MirrorEnvironmentVariable"/> and the per-user folder); defaults to the real environment.</param>
    /// <param name="log">Receives one line per step (download started, verified, extracted).</param>
    public DatasetDownloader(
        HttpClient http,
        IReadOnlyDictionary<string, string>? baseUrls = null,
        Func<string, string?>? getEnvironmentVariable = null,
        Action<string>? log = null)
    {
        this.http = http;
        this.baseUrls = baseUrls is null
            ? new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            : new Dictionary<string, string>(baseUrls, StringComparer.OrdinalIgnoreCase);
        this.getEnvironmentVariable = getEnvironmentVariable ?? Environment.GetEnvironmentVariable;
        this.log = log;
    }

    /// <summary>The base URL a dataset's files are fetched from: constructor mapping, else mirror variable, else official.</summary>
    public string BaseUrlFor(DatasetInfo info)
    {
        var baseUrl = baseUrls.TryGetValue(info.Name, out var mapped) ? mapped
            : getEnvironmentVariable(MirrorEnvironmentVariable) is { Length: > 0 } mirror ? mirror.Trim()
            : info.Download.BaseUrl;
        return baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/";
    }

    /// <summary>The address of one download file.</summary>
    public Uri ResolveUrl(DatasetInfo info, DownloadFile file) => new(new Uri(BaseUrlFor(info)), file.FileName);

    /// <summary>Synchronous <see cref="DownloadAsync"/>.</summary>
    public string Download(DatasetInfo info, string? root = null) =>
        Task.Run(() => DownloadAsync(info, root)).GetAwaiter().GetResult();

    /// <summary>
    /// Downloads, verifies and (for archives) extracts a dataset into <c>root/SubFolders[0]</c>
    /// and returns that folder. <paramref name="root"/> defaults to the per-user data folder.
    /// </summary>
    /// <exception cref="DatasetFormatException">A checksum does not match or an archive lacks the expected files.</exception>
    /// <exception cref="HttpRequestException">A request failed; the message names the URL.</exception>
    public async Task<string> DownloadAsync(DatasetInfo info, string? root = null, CancellationToken cancellationToken = default)
    {
        root = Path.GetFullPath(root ?? DataLocator.UserDataRootFrom(getEnvironmentVariable));
        var createdRoot = !Directory.Exists(root);
        Directory.CreateDirectory(root);
        var target = Path.Combine(root, info.SubFolders[0]);
        var staging = Path.Combine(root, $".{info.Name}.download-{Guid.NewGuid():N}");
        Directory.CreateDirectory(staging);
        var succeeded = false;
        try
        {
            var downloaded = new List<(Uri Url, string Path)>();
            foreach (var file in info.Download.Files)
            {
                var url = ResolveUrl(info, file);
                var path = Path.Combine(staging, file.FileName);
                await DownloadFileAsync(url, path, file.Md5, cancellationToken).ConfigureAwait(false);
                downloaded.Add((url, path));
            }

            string source;
            string origin;
            if (info.Download.IsTarGzArchive)
            {
                var extracted = Path.Combine(staging, "extracted");
                Directory.CreateDirectory(extracted);
                foreach (var (url, path) in downloaded)
                {
                    await ExtractTarGzAsync(url, path, extracted, cancellationToken).ConfigureAwait(false);
                    File.Delete(path);
                }

                source = Path.Combine(extracted, info.SubFolders[0]);
                origin = string.Join(", ", downloaded.Select(d => d.Url));
                if (!Directory.Exists(source))
                {
                    throw new DatasetFormatException(origin, $"the archive does not contain the folder {info.SubFolders[0]}/");
                }
            }
            else
            {
                source = staging;
                origin = info.Download.BaseUrl;
            }

            var missing = DataLocator.MissingFiles(info, source);
            if (missing.Count > 0)
            {
                throw new DatasetFormatException(origin, $"the download lacks the dataset files {string.Join(", ", missing)}");
            }

            Directory.CreateDirectory(target);
            foreach (var file in Directory.EnumerateFiles(source))
            {
                File.Move(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
            }

            log?.Invoke($"{info.DisplayName} is ready in {target}");
            succeeded = true;
            return target;
        }
        finally
        {
            TryDeleteDirectory(staging);
            if (!succeeded && createdRoot && !Directory.EnumerateFileSystemEntries(root).Any())
            {
                TryDeleteDirectory(root);
            }
        }
    }

    /// <summary>
    /// Downloads one file to <paramref name="destination"/> via a temporary file, checking its MD5
    /// (lower- or upper-case hex). On any failure the temporary file is removed and nothing is left.
    /// </summary>
    public async Task DownloadFileAsync(Uri url, string destination, string expectedMd5, CancellationToken cancellationToken = default)
    {
        log?.Invoke($"Downloading {url}");
        var temporary = destination + $".part-{Guid.NewGuid():N}";
        try
        {
            string actual;
            using (var response = await SendAsync(url, cancellationToken).ConfigureAwait(false))
            {
                await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                await using var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferSize, useAsync: true);
                using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
                var buffer = new byte[CopyBufferSize];
                int n;
                while ((n = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    md5.AppendData(buffer, 0, n);
                    await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                }

                actual = Convert.ToHexStringLower(md5.GetHashAndReset());
            }

            if (!string.Equals(actual, expectedMd5, StringComparison.OrdinalIgnoreCase))
            {
                throw new DatasetFormatException(url.ToString(),
                    $"checksum mismatch for {Path.GetFileName(destination)}: expected md5 {expectedMd5.ToLowerInvariant()}, got {actual}");
            }

            File.Move(temporary, destination, overwrite: true);
            log?.Invoke($"Verified {Path.GetFileName(destination)} (md5 {actual})");
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    private async Task<HttpResponseMessage> SendAsync(Uri url, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new HttpRequestException($"{url}: download failed: {e.Message}", e, e.StatusCode);
        }

        if (!response.IsSuccessStatusCode)
        {
            var status = response.StatusCode;
            var reason = response.ReasonPhrase;
            response.Dispose();
            throw new HttpRequestException($"{url}: download failed with HTTP {(int)status} {reason}", null, status);
        }

        return response;
    }

    private async Task ExtractTarGzAsync(Uri url, string archive, string destination, CancellationToken cancellationToken)
    {
        try
        {
            await using var file = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferSize, useAsync: true);
            await using var gzip = new GZipStream(file, CompressionMode.Decompress);
            await TarFile.ExtractToDirectoryAsync(gzip, destination, overwriteFiles: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or IOException and not FileNotFoundException)
        {
            throw new DatasetFormatException(url.ToString(), $"cannot extract {Path.GetFileName(archive)} as tar.gz: {e.Message}", e);
        }

        log?.Invoke($"Extracted {Path.GetFileName(archive)}");
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
