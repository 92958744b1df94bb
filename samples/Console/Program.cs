// Embedding NeuralTangents from its package: the empirical NTK and NNGP of a small CNN, as in Neural Tangents'
// `nt.empirical_kernel_fn` docs example, checked for symmetry and written as .npy for NumPy.
using NeuralTangents;
using NeuralTangents.Interop;
using NeuralTangents.Tensors;
using static NeuralTangents.Stax.Stax;

var net = Serial(Conv(16, [3, 3], padding: NeuralTangents.Stax.Padding.Same), Relu(), Flatten(), Dense(10, bStd: 0.1));
var rng = new Random(0);
var x1 = Tensor.RandomNormal(rng, new Shape(6, 8, 8, 3));
var x2 = Tensor.RandomNormal(rng, new Shape(4, 8, 8, 3));
var (outShape, parameters) = net.Init(seed: 1, x1.Shape);
Console.WriteLine($"net {net.Description}: output {outShape}, {parameters.ParameterCount} parameters");

// Neural Tangents' defaults (trace over the logits); vmap_axes=0 because examples are independent.
var kernelFn = Empirical.KernelFn(net.Apply, traceAxes: [-1], vmapAxes: 0, implementation: NtkImplementation.Auto);
var k12 = kernelFn(x1, x2, null, parameters);
var k11 = kernelFn(x1, null, null, parameters);
Console.WriteLine($"NTK(x1, x2) {k12.Ntk!.Shape}, NNGP(x1, x2) {k12.Nngp!.Shape}");

double asym = 0, scale = 0;
for (int i = 0; i < 6; i++)
    for (int j = 0; j < 6; j++)
    {
        asym = Math.Max(asym, Math.Abs(k11.Ntk![i, j] - k11.Ntk[j, i]));
        scale = Math.Max(scale, Math.Abs(k11.Ntk[i, j]));
    }
Console.WriteLine($"NTK(x1, x1): max|K - K^T| / max|K| = {asym / scale:G3}");
Npy.Write("ntk.npy", k12.Ntk);
Console.WriteLine("wrote ntk.npy");
if (asym > 1e-12 * scale) { Console.Error.WriteLine("NTK(x1, x1) is not symmetric"); return 1; }
return 0;
