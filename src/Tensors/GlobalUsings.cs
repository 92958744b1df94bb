global using System.Diagnostics;
global using NeuralTangents.Tensors.Kernels;
global using NeuralTangents.Tensors.Ops;
