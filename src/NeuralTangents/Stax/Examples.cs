namespace NeuralTangents.Stax;

public static partial class Stax
{
    /// <summary>Ready-made architectures from Neural Tangents' README and examples.</summary>
    public static class Examples
    {
        /// <summary>
        /// A residual block of Neural Tangents' README: <c>Serial(FanOut(2), Parallel(Main, Shortcut), FanInSum)</c> with
        /// <c>Main = Relu, Conv(channels, (3,3), strides, SAME), Relu, Conv(channels, (3,3), SAME)</c> and the shortcut an
        /// <c>Identity</c>, or a <c>Conv(channels, (3,3), strides, SAME)</c> when <paramref name="channelMismatch"/>.
        /// </summary>
        public static Layer WideResnetBlock(int channels, int[]? strides = null, bool channelMismatch = false)
        {
            var st = strides ?? new[] { 1, 1 };
            var main = Serial(Relu(), Conv(channels, new[] { 3, 3 }, st, Padding.Same), Relu(), Conv(channels, new[] { 3, 3 }, padding: Padding.Same));
            var shortcut = channelMismatch ? Conv(channels, new[] { 3, 3 }, st, Padding.Same) : Identity();
            return Serial(FanOut(2), Parallel(main, shortcut), FanInSum());
        }

        /// <summary><paramref name="n"/> blocks: the first with a convolutional shortcut and the strides, the rest plain.</summary>
        public static Layer WideResnetGroup(int n, int channels, int[]? strides = null)
        {
            if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"WideResnetGroup: n must be positive, got {n}");
            var blocks = new List<Layer> { WideResnetBlock(channels, strides, channelMismatch: true) };
            for (int i = 1; i < n; i++) blocks.Add(WideResnetBlock(channels));
            return Serial(blocks.ToArray());
        }

        /// <summary>
        /// Neural Tangents' README WideResNet: <c>Conv(16, (3,3), SAME)</c>, three groups of <paramref name="blockSize"/>
        /// blocks with <c>int(16k)</c>, <c>int(32k)</c>, <c>int(64k)</c> channels (the last two with strides 2),
        /// <c>AvgPool((8,8))</c>, <c>Flatten</c>, <c>Dense(numClasses, 1, 0)</c>. The pool window fits 32×32 inputs (CIFAR);
        /// pass <paramref name="poolWindow"/> = input size / 4 for other sizes (e.g. <c>(2,2)</c> for 8×8 digits).
        /// Parameter names: <c>"0.W"</c> (first conv), <c>"g.i.1.0.1.W"</c> (group g = 1…3, block i, Main's first conv) …,
        /// <c>"6.W"</c>, <c>"6.b"</c> (the readout).
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">A non-positive block size, class count or channel count.</exception>
        public static Layer WideResnet(int blockSize, double k, int numClasses, int[]? poolWindow = null)
        {
            int C(double c) => (int)(c * k) >= 1 ? (int)(c * k) : throw new ArgumentOutOfRangeException(nameof(k), $"WideResnet: int({c}·k) must be positive, got k = {k}");
            return Serial(
                Conv(16, new[] { 3, 3 }, padding: Padding.Same),
                WideResnetGroup(blockSize, C(16)),
                WideResnetGroup(blockSize, C(32), new[] { 2, 2 }),
                WideResnetGroup(blockSize, C(64), new[] { 2, 2 }),
                AvgPool(poolWindow ?? new[] { 8, 8 }),
                Flatten(),
                Dense(numClasses, 1, 0));
        }

        /// <summary>
        /// A small pre-LayerNorm transformer encoder on <c>(N, positions, features)</c> inputs: <c>Dense(width)</c>
        /// embedding, then <paramref name="depth"/> blocks of
        /// <c>FanOut(2), Parallel(Identity, Serial(LayerNorm, GlobalSelfAttention(width, width, width/heads, heads))), FanInSum</c>
        /// and <c>FanOut(2), Parallel(Identity, Serial(LayerNorm, Dense(mlpWidth), Gelu, Dense(width))), FanInSum</c>, then
        /// <c>LayerNorm, GlobalAvgPool, Dense(numClasses)</c>.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">Non-positive sizes, or a width not divisible by the heads.</exception>
        public static Layer TransformerEncoder(int depth, int width, int nHeads, int mlpWidth, int numClasses, bool linearScaling = true)
        {
            if (depth < 1 || width < 1 || nHeads < 1 || mlpWidth < 1 || numClasses < 1 || width % nHeads != 0)
                throw new ArgumentOutOfRangeException(nameof(width), $"TransformerEncoder: sizes must be positive and width divisible by n_heads, got depth {depth}, width {width}, n_heads {nHeads}, mlp width {mlpWidth}, classes {numClasses}");
            var layers = new List<Layer> { Dense(width) };
            for (int i = 0; i < depth; i++)
            {
                layers.Add(Serial(FanOut(2), Parallel(Identity(), Serial(LayerNorm(),
                    GlobalSelfAttention(width, width, width / nHeads, nHeads, linearScaling))), FanInSum()));
                layers.Add(Serial(FanOut(2), Parallel(Identity(), Serial(LayerNorm(), Dense(mlpWidth), Gelu(), Dense(width))), FanInSum()));
            }
            layers.Add(LayerNorm());
            layers.Add(GlobalAvgPool());
            layers.Add(Dense(numClasses));
            return Serial(layers.ToArray());
        }
    }
}
