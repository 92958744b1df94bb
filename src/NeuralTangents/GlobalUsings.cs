global using System.Diagnostics;
global using NeuralTangents.Autodiff;
global using NeuralTangents.Autodiff.Interpreters;
global using NeuralTangents.Autodiff.Ir;
global using NeuralTangents.Autodiff.Tracing;
global using NeuralTangents.Tensors;
global using NeuralTangents.Tensors.Kernels;
global using NeuralTangents.Tensors.Ops;
