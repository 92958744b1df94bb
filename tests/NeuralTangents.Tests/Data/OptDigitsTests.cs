using NeuralTangents.Data;
using NeuralTangents.Tensors;
using Xunit;

namespace NeuralTangents.Tests.Data;

public sealed class OptDigitsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nt-digits-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string DataFile(string name) => Path.Combine(OptDigits.FindDataDirectory(), name);

    [Theory]
    [InlineData(OptDigits.TrainFileName, 3823)]
    [InlineData(OptDigits.TestFileName, 1797)]
    public void Loads_the_real_files(string file, int rows)
    {
        var set = OptDigits.Load(DataFile(file));
        Assert.Equal(rows, set.Count);
        Assert.Equal(new Shape(rows, 8, 8, 1), set.Images.Shape);
        Assert.Equal(DType.Float64, set.Images.DType);
        var v = set.Images.ToDoubleArray();
        Assert.Equal(0.0, v.Min());
        Assert.Equal(1.0, v.Max());
        Assert.All(v, x => Assert.Equal(0.0, x * 16 - Math.Round(x * 16))); // multiples of 1/16
        var counts = Enumerable.Range(0, 10).Select(c => set.Labels.Count(l => l == c)).ToArray();
        Assert.Equal(rows, counts.Sum());
        Assert.All(counts, c => Assert.InRange(c, rows / 12, rows / 8)); // roughly balanced classes
    }

    [Fact]
    public void First_training_row_matches_the_file()
    {
        var set = OptDigits.Load(DataFile(OptDigits.TrainFileName), maxRows: 2);
        Assert.Equal(2, set.Count);
        double[] firstEight = [0, 1, 6, 15, 12, 1, 0, 0];
        for (int x = 0; x < 8; x++) Assert.Equal(firstEight[x] / 16, set.Images[0, 0, x, 0]);
        Assert.Equal(7 / 16.0, set.Images[0, 1, 1, 0]); // second image row starts 0,7,16
        Assert.Equal(0, set.Labels[0]);
        Assert.Equal(0, set.Labels[1]);
    }

    [Fact]
    public void Float32_matches_float64_and_max_rows_limits()
    {
        var f64 = OptDigits.Load(DataFile(OptDigits.TestFileName), maxRows: 100);
        var f32 = OptDigits.Load(DataFile(OptDigits.TestFileName), maxRows: 100, dtype: DType.Float32);
        Assert.Equal(DType.Float32, f32.Images.DType);
        Assert.Equal(f64.Images.ToDoubleArray(), f32.Images.ToDoubleArray()); // k/16 is exact in both
        Assert.Equal(f64.Labels, f32.Labels);
        Assert.Equal(new Shape(0, 8, 8, 1), OptDigits.Load(DataFile(OptDigits.TestFileName), maxRows: 0).Images.Shape);
        Assert.Equal(1797, OptDigits.Load(DataFile(OptDigits.TestFileName), maxRows: 100000).Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => OptDigits.Load(DataFile(OptDigits.TestFileName), maxRows: -1));
    }

    [Fact]
    public void OneHot_has_a_single_one_at_the_label()
    {
        var set = OptDigits.Load(DataFile(OptDigits.TrainFileName), maxRows: 50, dtype: DType.Float32);
        var y = set.OneHot();
        Assert.Equal(new Shape(50, 10), y.Shape);
        Assert.Equal(DType.Float32, y.DType);
        for (int i = 0; i < 50; i++)
            for (int c = 0; c < 10; c++)
                Assert.Equal(c == set.Labels[i] ? 1.0 : 0.0, y[i, c]);
        Assert.Equal(new Shape(50, 12), set.OneHot(12).Shape);
        int maxLabel = set.Labels.Max();
        Assert.Throws<ArgumentOutOfRangeException>(() => set.OneHot(maxLabel));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.OneHot(0));
    }

    private static string Row(int label = 3, int fill = 5, int pixels = 64) =>
        string.Join(",", Enumerable.Repeat(fill, pixels).Append(label));

    private string Temp(params string[] lines)
    {
        var p = Path.Combine(_dir, $"d{Guid.NewGuid():N}.txt");
        File.WriteAllText(p, string.Join("\n", lines));
        return p;
    }

    [Fact]
    public void Accepts_trailing_empty_lines_and_crlf()
    {
        var p = Path.Combine(_dir, "crlf.txt");
        File.WriteAllText(p, Row(1) + "\r\n" + Row(2, 16) + "\r\n\r\n\r\n");
        var set = OptDigits.Load(p);
        Assert.Equal(new[] { 1, 2 }, set.Labels);
        Assert.Equal(1.0, set.Images[1, 7, 7, 0]);
        Assert.Equal(5 / 16.0, set.Images[0, 0, 0, 0]);
    }

    [Theory]
    [InlineData(64, "expected 65 comma-separated fields", "got 64")]
    [InlineData(66, "expected 65 comma-separated fields", "got 66")]
    public void Wrong_field_count_names_file_and_line(int fields, string what, string got)
    {
        var p = Temp(Row(), Row(pixels: fields - 1), Row());
        var e = Assert.Throws<InvalidDataException>(() => OptDigits.Load(p));
        Assert.Contains($"{p}:2:", e.Message);
        Assert.Contains(what, e.Message);
        Assert.Contains(got, e.Message);
    }

    [Theory]
    [InlineData("17", "pixel 1 has value 17, expected 0..16")]
    [InlineData("-1", "pixel 1 has value -1, expected 0..16")]
    [InlineData("x", "field 1 'x' is not an integer")]
    [InlineData("", "field 1 '' is not an integer")]
    public void Bad_pixel_names_file_and_line(string pixel, string what)
    {
        var p = Temp(Row(), Row(), pixel + "," + string.Join(",", Enumerable.Repeat(0, 63)) + ",4");
        var e = Assert.Throws<InvalidDataException>(() => OptDigits.Load(p));
        Assert.Contains($"{p}:3:", e.Message);
        Assert.Contains(what, e.Message);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(-1)]
    public void Bad_label_names_file_and_line(int label)
    {
        var p = Temp(Row(label: label));
        var e = Assert.Throws<InvalidDataException>(() => OptDigits.Load(p));
        Assert.Contains($"{p}:1:", e.Message);
        Assert.Contains($"label {label} is outside 0..9", e.Message);
    }

    [Fact]
    public void Empty_line_inside_the_data_is_rejected()
    {
        var p = Temp(Row(), "", Row());
        var e = Assert.Throws<InvalidDataException>(() => OptDigits.Load(p));
        Assert.Contains($"{p}:2:", e.Message);
        // ...but rows before it are fine when maxRows stops early.
        Assert.Single(OptDigits.Load(p, maxRows: 1).Labels);
    }

    [Fact]
    public void FindDataDirectory_lists_searched_paths_when_missing()
    {
        var start = Directory.CreateDirectory(Path.Combine(_dir, "a", "b")).FullName;
        // The temp tree has no data folder; the "missing" case is only checked when no ancestor of the temp folder
        // (e.g. /tmp/shared/data/optdigits on a developer machine) has one, since the search rightly finds it.
        bool ancestorHasData = false;
        for (var dir = new DirectoryInfo(_dir).Parent; dir is not null; dir = dir.Parent)
            ancestorHasData |= Directory.Exists(Path.Combine(dir.FullName, "data", "optdigits")) || Directory.Exists(Path.Combine(dir.FullName, "shared", "data", "optdigits"));
        if (!ancestorHasData)
        {
            var e = Assert.Throws<FileNotFoundException>(() => OptDigits.FindDataDirectory([start]));
            Assert.Contains(Path.Combine(start, "data", "optdigits"), e.Message);
            Assert.Contains(Path.Combine(_dir, "a", "shared", "data", "optdigits"), e.Message);
        }

        var shared = Directory.CreateDirectory(Path.Combine(_dir, "shared", "data", "optdigits")).FullName;
        File.WriteAllText(Path.Combine(shared, OptDigits.TestFileName), Row());
        Assert.Equal(shared, OptDigits.FindDataDirectory([start])); // ../shared fallback
        var local = Directory.CreateDirectory(Path.Combine(_dir, "a", "data", "optdigits")).FullName;
        File.WriteAllText(Path.Combine(local, OptDigits.TrainFileName), Row());
        Assert.Equal(local, OptDigits.FindDataDirectory([start])); // data/optdigits wins
    }
}
